/**
 * lib/servers/postgres-cluster.ts `freePort`: the ports the tests start their servers on (PostgreSQL, redis-server,
 * the shop) are free when picked and outside the kernel's ephemeral range, from which the suite's own outgoing
 * connections take their local ports (a shard's PostgreSQL once failed to bind a port picked that way).
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { FREE_PORT_RANGE, freePort } from "../../lib/servers/postgres-cluster";

/** The lowest port of Linux's ephemeral range (32768 by default). */
function ephemeralLow(): number {
  const text = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8");
  return Number(text.trim().split(/\s+/)[0]);
}

test("the range lies below the kernel's ephemeral ports and the e2e topologies' blocks (21000 and up)", () => {
  expect(FREE_PORT_RANGE.to).toBeLessThanOrEqual(ephemeralLow());
  expect(FREE_PORT_RANGE.to).toBeLessThanOrEqual(21_000);
  expect(FREE_PORT_RANGE.from).toBeGreaterThanOrEqual(1024);
});

test("each port is in the range and can be listened on", async () => {
  for (let i = 0; i < 20; i++) {
    const port = await freePort();
    expect(port).toBeGreaterThanOrEqual(FREE_PORT_RANGE.from);
    expect(port).toBeLessThan(FREE_PORT_RANGE.to);
    await new Promise<void>((resolve, reject) => {
      const server = createServer();
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => server.close(() => resolve()));
    });
  }
});

test("a port in use is skipped", async () => {
  // The first pick lands on a port a server holds; the next one is returned.
  const held = createServer();
  await new Promise<void>((resolve, reject) => {
    held.once("error", reject);
    held.listen(FREE_PORT_RANGE.from, "127.0.0.1", () => resolve());
  });
  const picks = [0, 0.5];
  const random = jest.spyOn(Math, "random").mockImplementation(() => picks.shift() ?? 0.5);
  try {
    expect(await freePort()).toBe(FREE_PORT_RANGE.from + (FREE_PORT_RANGE.to - FREE_PORT_RANGE.from) / 2);
  } finally {
    random.mockRestore();
    await new Promise((resolve) => held.close(resolve));
  }
});
