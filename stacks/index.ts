/**
 * Entry point of the Pulumi program (`main` in package.json, which the Pulumi CLI runs from the project root). Reads
 * the typed config — failing with a message that names the key before anything is declared — and composes the step.
 * Stack traces are off while it runs unless asked for (stack-traces.ts says why and how).
 */
import { readLadderConfig } from "./config";
import { ladder } from "./ladder";
import { programStackTraceLimit } from "./stack-traces";

Error.stackTraceLimit = programStackTraceLimit(process.env, Error.stackTraceLimit);

// A function, which the CLI's cmd/run calls once the module is loaded, rather than a value computed while it loads:
// the SDK maps the whole stack at every resource for its source position, and a stack that starts in cmd/run rather
// than under require() and ts-node's compile hooks is 14 frames deep instead of 23 (step 11: 249 ms instead of 374 ms
// of mapping; npm run bench:program). The stack outputs are the same: cmd/run awaits what the function returns.
export = () => ladder(readLadderConfig());
