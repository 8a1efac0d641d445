/**
 * A connection attempt that stalls is started over (app/src/redis/client.ts). node-redis 5 awaits the handshake of
 * a new connection without a timeout, so a server that accepts the connection and never answers left the client
 * open, not ready and silent for ever — the state of redis/node-redis#3346 — and every session read a 503 long after
 * a real server was back on the port.
 */
import { type Socket, createServer } from "node:net";
import pino from "pino";
import { createRedis } from "../../app/src/redis/client";
import { type RedisServer, startRedisServer } from "./support/redis-server";

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

test("a server that accepts and never answers does not hold the client: it is ready once a real one is back", async () => {
  await server.kill();
  // On the port while the real server is down: accepts, reads, never answers (a stalled or half-dead node).
  const held: Socket[] = [];
  const blackHole = createServer((socket) => {
    held.push(socket);
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => blackHole.listen(server.port, "127.0.0.1", resolve));
  const events: string[] = [];
  const redis = createRedis({ url: server.url, logger: pino({ level: "silent" }), connectTimeoutMs: 200, maxReconnectDelayMs: 200 });
  for (const event of ["connect", "ready", "error", "reconnecting", "end"]) redis.client.on(event, () => events.push(event));
  try {
    await waitFor(() => held.length > 0, 5000);
    // Stop listening but keep the accepted connection open, as a stalled server does; then the real server returns.
    // (close's callback waits for the held connections to end: the listener itself is gone at once.)
    blackHole.close();
    await server.restart();
    const ready = await redis.whenReady(10_000);
    expect({ ready, isOpen: redis.client.isOpen, isReady: redis.isReady }).toEqual({ ready: true, isOpen: true, isReady: true });
    expect(await redis.client.ping()).toBe("PONG");
    expect(events).toEqual(expect.arrayContaining(["connect", "end", "ready"]));
  } finally {
    await redis.close();
    for (const socket of held) socket.destroy();
  }
}, 30_000);

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("the client never reached the server");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
