/**
 * Entry point of the Pulumi program (`main` in package.json, which the Pulumi CLI runs from the project root). Reads
 * the typed config — failing with a message that names the key before anything is declared — and composes the step.
 */
import { readLadderConfig } from "./config";
import { ladder } from "./ladder";

export = ladder(readLadderConfig());
