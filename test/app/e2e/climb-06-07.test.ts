/**
 * End to end, a live climb from step 6 to 7 (`POST /climb` on the launcher's control endpoint): sessions move from
 * the web processes' memory (sticky load balancer) to Redis. Under a steady load of shoppers with cookie jars, no
 * request fails and no cart is lost: each replaced process hands its sessions over before HAProxy takes it out,
 * and the step-7 processes claim them into Redis. Then HAProxy is reloaded under load, again and again: its
 * listening sockets pass from worker to worker and not one request fails. Faults act on the climbed topology.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { Browser } from "../../../scripts/climb/browser";
import type { LauncherFile } from "../../../scripts/local/launcher";
import { haproxyCommand } from "../../../scripts/local/haproxy";
import { pollUntil } from "../../../lib/servers/poll";
import { moreRequests, startLoad, stopLoads } from "./support/load";
import { type Topology, startTopology } from "./support/local-topology";

jest.setTimeout(240_000);
const PORT = 23400;
let topology: Topology;

beforeAll(async () => {
  topology = await startTopology(6, PORT);
});
afterEach(() => stopLoads());
afterAll(async () => {
  await topology?.stop();
});

type CartBody = { items: Array<{ productId: number; quantity: number }> };

test("6 → 7 under load: no request fails, and a cart held in memory at step 6 is there at step 7", async () => {
  const keeper = new Browser(topology.entryUrl);
  expect((await keeper.post("/api/cart/items", { productId: 77, quantity: 2 })).status).toBe(200);
  const load = startLoad(topology.entryUrl, 4);
  await moreRequests(load, 100);
  const report = await topology.climb(7);
  await moreRequests(load, 100);
  const result = await load.stop();

  expect(result.failures).toEqual([]);
  expect(result.lostCarts).toEqual([]);
  expect(result.requests).toBeGreaterThan(200);
  expect(report).toMatchObject({ from: 6, to: 7, seamless: true });
  expect(report.phases.map((p) => p.name)).toEqual(
    expect.arrayContaining(["start redis-sessions", "roll web-1", "roll web-2", "haproxy reload (round-robin)"]),
  );
  // Round-robin now: whichever process answers, the step-6 cart is there (it lives in Redis).
  for (let i = 0; i < 4; i++) {
    const cart = await keeper.get("/api/cart");
    expect(cart.status).toBe(200);
    expect(cart.json<CartBody>().items).toEqual([expect.objectContaining({ productId: 77, quantity: 2 })]);
  }
  const services = await topology.status();
  expect(services.filter((s) => s.kind === "web" && s.running).map((s) => s.name)).toEqual(["web-1", "web-2"]);
  expect(services.find((s) => s.name === "redis-sessions")?.running).toBe(true);
  expect((await keeper.get("/api/cart")).headers["set-cookie"] ?? []).not.toContainEqual(
    expect.stringContaining("SHOPLB"),
  );
});

test("HAProxy reloaded five times under load: not one request fails", async () => {
  const haproxy = (await topology.status()).find((s) => s.name === "haproxy")!;
  const adminPort = Number(new URL(topology.entryUrl).port) + 7;
  const workerPid = async () => /^Pid: (\d+)$/m.exec(await haproxyCommand(adminPort, "show info"))?.[1];
  const load = startLoad(topology.entryUrl, 4);
  await moreRequests(load, 50);
  for (let i = 0; i < 5; i++) {
    const before = await workerPid();
    process.kill(haproxy.pid!, "SIGUSR2");
    await pollUntil("a new HAProxy worker", async () => ((await workerPid().catch(() => before)) ?? before) !== before);
    await moreRequests(load, 50);
  }
  const result = await load.stop();
  expect(result.failures).toEqual([]);
  expect(result.lostCarts).toEqual([]);
  // The master survived every reload: the same process runs.
  expect((await topology.status()).find((s) => s.name === "haproxy")).toMatchObject({
    pid: haproxy.pid,
    running: true,
  });
});

test("after the climb, faults act on the step-7 topology: the web process killed is the one running now", async () => {
  const before = (await topology.status()).find((s) => s.name === "web-1")!;
  expect(await topology.fault("web-kill", "web-1")).toContain(`killed web-1 (pid ${before.pid})`);
  await pollUntil("web-1 to be restarted by the supervisor", async () => {
    const now = (await topology.status()).find((s) => s.name === "web-1");
    return Boolean(now?.running && (now.restarts ?? 0) >= 1);
  });
  expect(await topology.fault("redis-stop", "redis-sessions")).toContain("stopped redis-sessions");
  expect(await topology.fault("redis-start", "redis-sessions")).toContain("started redis-sessions again");
  const launcher = JSON.parse(readFileSync(path.join(topology.dataDir, "launcher.json"), "utf8")) as LauncherFile;
  expect(launcher).toMatchObject({ step: 7, state: "ready" });
  await expect(topology.climb(9)).rejects.toThrow('"to" must be 8 (one step up from step 7), got 9');
});
