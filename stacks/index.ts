/**
 * Entry point of the Pulumi program (`main` in Pulumi.yaml). Reads the typed config — failing with a message that
 * names the key before anything is declared — and composes the step.
 */
import { readLadderConfig } from "./config";
import { ladder } from "./ladder";

export = ladder(readLadderConfig());
