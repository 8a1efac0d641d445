// The physical limit of the benchmark (npm run bench): a bare node:http server on 127.0.0.1 answering every
// request with the same small JSON product, no framework, no database, no cache. Usage: node bare-server.mjs <port>
import { createServer } from "node:http";

const body = JSON.stringify({
  id: 42,
  sku: "SKU-0000042",
  name: "Sturdy Novel 42",
  description: "A sturdy novel from our books range.",
  category: "books",
  priceCents: 8118,
  stock: 37,
});
const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2]), "127.0.0.1", () => process.stdout.write("ready\n"));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
