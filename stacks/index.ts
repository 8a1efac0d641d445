/**
 * The Pulumi program (the CLI runs it from the project root through package.json's `main`, stacks/main.cjs, which
 * loads this file's bundle). Reads
 * the typed config — failing with a message that names the key before anything is declared — and composes the step.
 * Stack traces are off while it runs unless asked for (stack-traces.ts says why and how).
 */
import { readLadderConfig } from "./config";
import { ladder } from "./ladder";
import { programStackTraceLimit } from "./stack-traces";

Error.stackTraceLimit = programStackTraceLimit(process.env, Error.stackTraceLimit);

// A function, which the CLI's cmd/run calls once the module is loaded, rather than a value computed while it loads:
// the SDK maps the whole stack at every resource for its source position, and a stack that starts in cmd/run is
// shallower than one under require() and the loader's hooks (with ts-node's: 14 frames deep instead of 23, step 11
// mapped in 249 ms instead of 374 ms; npm run bench:program). The stack outputs are the same: cmd/run awaits what the
// function returns.
export = () => ladder(readLadderConfig());
