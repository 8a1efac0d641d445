/**
 * Entry point of the Pulumi program (`main` in package.json, which the Pulumi CLI runs from the project root). Reads
 * the typed config — failing with a message that names the key before anything is declared — and composes the step.
 * Stack traces are off while it runs unless asked for (stack-traces.ts says why and how).
 */
import { readLadderConfig } from "./config";
import { ladder } from "./ladder";
import { programStackTraceLimit } from "./stack-traces";

Error.stackTraceLimit = programStackTraceLimit(process.env, Error.stackTraceLimit);

export = ladder(readLadderConfig());
