// Runs the fauxqs SQS emulator for the app tests, listening on 127.0.0.1 only (its own CLI listens on every
// interface). fauxqs is an ES module, which jest's CommonJS test files cannot load, hence a process of its own.
// Prints one JSON line `{"port":<n>}` once it listens; stops on SIGTERM or when its parent goes away.
import { buildApp } from "fauxqs";

const app = buildApp({ logger: false });
await app.listen({ host: "127.0.0.1", port: Number(process.env.FAUXQS_PORT ?? 0) });
process.stdout.write(`${JSON.stringify({ port: app.server.address().port })}\n`);
const stop = () => app.close().then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// The test run that started it may die without a word: an orphan must not outlive it.
process.stdin.on("end", stop);
process.stdin.resume();
