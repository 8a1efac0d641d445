/**
 * The climb's run (scripts/climb/runner.ts) on an in-process shop with memory sessions (steps 1–6), through a
 * stand-in launcher whose climb either changes nothing the shoppers can see (the bars are met) or replaces the web
 * process by a new one on the same port without handing its sessions over (what a roll without the handoff does):
 * the run must then report the lost carts and the orders missing from the shoppers' histories, and break its bars.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../app/src/app";
import { closeConnections } from "../../scripts/climb/browser";
import { CLIMB_DEFAULTS, type ClimbOptions } from "../../scripts/climb/options";
import { brokenBars, totals } from "../../scripts/climb/report";
import { ClimbRun, type ClimbingLauncher } from "../../scripts/climb/runner";
import { pollUntil } from "../../lib/servers/poll";
import { ADMIN_TOKEN, type TestApp, startTestApp, testLogger } from "./support/test-app";

let t: TestApp;
let dataDir: string;
/** The web process now on the port (a climb that replaces it changes this). */
let web: FastifyInstance;
let port: number;

beforeAll(async () => {
  t = await startTestApp("climb-runner");
  web = t.app;
  port = (t.app.server.address() as AddressInfo).port;
  // The runner reads the admin token and the superuser's password from the data directory, as the launcher writes.
  dataDir = mkdtempSync(path.join(os.tmpdir(), "climb-runner-"));
  writeFileSync(
    path.join(dataDir, "secrets.json"),
    JSON.stringify({ adminToken: ADMIN_TOKEN, superuserPassword: t.db.cluster.password }),
  );
});
afterAll(async () => {
  closeConnections();
  if (web !== t?.app) await web?.close();
  await t?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** A launcher of the in-process shop: `climb` runs `change`. */
function standIn(change: () => Promise<void>): ClimbingLauncher {
  return {
    start: async () => undefined,
    stop: async () => undefined,
    status: () => [
      {
        name: "primary",
        kind: "postgres primary",
        url: `postgres://127.0.0.1:${t.db.cluster.primary.port}/${t.db.name}`,
        running: true,
      },
    ],
    async climb(to) {
      await change();
      return { from: to - 1, to, seamless: true, phases: [{ name: "change", ms: 0 }] };
    },
  };
}

function options(): ClimbOptions {
  return { ...CLIMB_DEFAULTS, from: 6, to: 7, shoppers: 3, dwellSeconds: 2, port, dataDir };
}

const quiet = () => undefined;
const think = { minMs: 5, maxMs: 20 };

test("a climb the shoppers cannot see: one row per period, every bar met", async () => {
  const run = new ClimbRun(
    options(),
    standIn(async () => undefined),
    quiet,
    think,
  );
  const outcome = await run.run();
  expect(outcome.rows.map((r) => [r.label, r.seamless])).toEqual([
    ["step 6", undefined],
    ["6 → 7", true],
  ]);
  expect(brokenBars(outcome)).toEqual([]);
  expect(outcome.orders.acked).toBeGreaterThan(0);
  expect(outcome.orders).toEqual({
    acked: outcome.orders.acked,
    present: outcome.orders.acked,
    missing: 0,
    visible: outcome.orders.acked,
    invisible: 0,
  });
  for (const row of outcome.rows) expect(row).toMatchObject({ cartsLost: 0, failures: 0, stockConsistent: true });
});

test("a web process replaced without handing over its sessions: carts lost, histories missing", async () => {
  const replace = async () => {
    // The new process is built first: building it took long enough under CPU load (a clean-clone CI run) for the
    // shoppers to check out every cart in between, and the old process then went with no cart in its store.
    const next = await buildApp(t.config, { router: t.router, logger: testLogger() });
    // Carts must be in the memory store when it goes: two shoppers holding one (a checkout empties one now and
    // then), and nothing awaited between seeing them and closing it.
    await pollUntil(
      "two shoppers with a cart",
      async () => [0, 1, 2].filter((i) => run.ledger.cart(i).length).length > 1,
    );
    await web.close();
    await next.listen({ host: "127.0.0.1", port });
    web = next;
  };
  const run: ClimbRun = new ClimbRun(options(), standIn(replace), quiet, think);
  const outcome = await run.run();
  const climb = outcome.rows[1];
  expect(climb.cartsLost).toBeGreaterThan(0);
  expect(outcome.orders.invisible).toBeGreaterThan(0);
  expect(outcome.orders.missing).toBe(0); // the orders are in the database: the shoppers lost the way to them
  expect(outcome.stockConsistent).toBe(true);
  const broken = brokenBars(outcome);
  expect(broken).toContain(`${totals(outcome.rows).cartsLost} carts lost`);
  expect(broken).toContain(`${outcome.orders.invisible} acknowledged orders missing from their shoppers' histories`);
});
