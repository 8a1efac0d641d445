// The SQS emulator of the local topology (fauxqs), listening on 127.0.0.1 only (its own CLI and startFauxqs
// listen on every interface). The launcher creates the queues through the SQS API (services/fauxqs.ts), at start
// and when a climb adds a region's.
// Usage: node fauxqs.mjs <port>
// Prints one JSON line `{"msg":"fauxqs ready","port":N}` once it listens.
import { buildApp } from "fauxqs";

const [port] = process.argv.slice(2);
const app = buildApp({ logger: false });
await app.listen({ host: "127.0.0.1", port: Number(port) });
process.stdout.write(`${JSON.stringify({ msg: "fauxqs ready", port: Number(port) })}\n`);
const stop = () => app.close().then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
