/**
 * A stuck Redis connection is started over (app/src/redis/client.ts). node-redis 5 awaits the handshake of a new
 * connection without a timeout and does not restart its loop on an error before the first ready, so two peers left
 * the client stuck for ever (redis/node-redis#3346), and every session read a 503 long after a real server was back
 * on the port (the redis-session and cache-degraded flakes): one that accepts and never answers (open, not ready,
 * silent), and one that resets the connection during the handshake (open and "ready" on a dead socket).
 */
import { type Socket, createServer } from "node:net";
import pino from "pino";
import { createRedis, withTimeout } from "../../app/src/redis/client";
import { type RedisServer, startRedisServer } from "../../lib/servers/redis-server";

let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

test("a server that accepts and never answers does not hold the client: ready once a real one is back", async () => {
  await server.kill();
  // On the port while the real server is down: accepts, reads, never answers (a stalled or half-dead node).
  const held: Socket[] = [];
  const blackHole = createServer((socket) => {
    held.push(socket);
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => blackHole.listen(server.port, "127.0.0.1", resolve));
  const events: string[] = [];
  const redis = createRedis({
    url: server.url,
    logger: pino({ level: "silent" }),
    connectTimeoutMs: 200,
    maxReconnectDelayMs: 200,
  });
  for (const event of ["connect", "ready", "error", "reconnecting", "end"])
    redis.client.on(event, () => events.push(event));
  try {
    await waitFor(() => held.length > 0, 5000);
    // Stop listening but keep the accepted connection open, as a stalled server does; then the real server returns.
    // (close's callback waits for the held connections to end: the listener itself is gone at once.)
    blackHole.close();
    await server.restart();
    const ready = await redis.whenReady(10_000);
    expect({ ready, isOpen: redis.client.isOpen, isReady: redis.isReady }).toEqual({
      ready: true,
      isOpen: true,
      isReady: true,
    });
    expect(await redis.client.ping()).toBe("PONG");
    expect(events).toEqual(expect.arrayContaining(["connect", "end", "ready"]));
  } finally {
    await redis.close();
    for (const socket of held) socket.destroy();
  }
}, 30_000);

test("a reset in the handshake does not leave the client ready on a dead socket: a real server is used", async () => {
  await server.kill();
  // Killed while the client reconnects: the connection is accepted, then reset on the first bytes of the handshake.
  let resets = 0;
  const resetting = createServer((socket) => {
    socket.on("error", () => undefined);
    socket.once("data", () => {
      resets++;
      socket.destroy();
    });
  });
  await new Promise<void>((resolve) => resetting.listen(server.port, "127.0.0.1", resolve));
  const redis = createRedis({
    url: server.url,
    logger: pino({ level: "silent" }),
    connectTimeoutMs: 200,
    maxReconnectDelayMs: 200,
  });
  try {
    await waitFor(() => resets > 0, 5000);
    await new Promise<void>((resolve) => resetting.close(() => resolve()));
    await server.restart();
    const deadline = Date.now() + 10_000;
    let pong = "";
    while (pong !== "PONG" && Date.now() < deadline) {
      pong = await withTimeout(redis.client.ping(), 300).catch(() => "");
      if (pong !== "PONG") await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect({ pong, isReady: redis.isReady }).toEqual({ pong: "PONG", isReady: true });
  } finally {
    await redis.close();
  }
}, 30_000);

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("the client never reached the server");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
