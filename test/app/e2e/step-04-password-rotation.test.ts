/**
 * End to end, step 4 (two web servers, a primary, two replicas): role `shop`'s password is rotated while the shop
 * serves, the way a rotation does it on AWS — the secret first (locally the launcher's credentials file, which the
 * app reads when it opens a connection), then the server (the replicas follow by replay). No process restarts, no
 * request fails, and the connections opened after the change log in with the new password (issue 15, item 3).
 */
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { Client } from "pg";
import { localCredentialsFile } from "../../../scripts/local/plan";
import { shopperVisit } from "../support/shopper-visit";
import { BrowserShopper } from "./support/journey";
import { type Topology, startTopology } from "./support/local-topology";

jest.setTimeout(180_000);
const PORT = 22800;
let topology: Topology;

beforeAll(async () => {
  topology = await startTopology(4, PORT);
});
afterAll(async () => {
  await topology?.stop();
});

/** A shopper's visit (support/shopper-visit.ts) through the topology's entry, as a browser. */
function visit(productId: number): Promise<string[]> {
  return shopperVisit(new BrowserShopper(topology.entryUrl), productId);
}

test("the password rotated in the credentials file, then on the primary: no restart, no failed request", async () => {
  const primary = (await topology.status()).find((s) => s.kind === "postgres primary")!;
  const failures: string[] = [];
  let visits = 0;
  let running = true;
  const steady = (async () => {
    while (running) {
      failures.push(...(await visit(1 + (visits % 50))));
      visits += 1;
    }
  })();
  while (visits < 3) await new Promise((resolve) => setTimeout(resolve, 20));

  const password = randomBytes(12).toString("hex");
  await writeFile(localCredentialsFile(topology), JSON.stringify({ username: "shop", password }), { mode: 0o600 });
  // A role may change its own password: the session opened with the old one does it.
  const db = await topology.db(primary.name);
  let changedAt: Date;
  try {
    changedAt = (await db.query<{ now: Date }>("SELECT now()")).rows[0].now;
    await db.query(`ALTER ROLE shop PASSWORD '${password}'`);
  } finally {
    await db.end();
  }
  // More shoppers at once than the web servers hold connections: both open new ones, with the new password.
  const burst = await Promise.all(Array.from({ length: 30 }, (_, i) => visit(1 + i)));
  const afterBurst = visits;
  while (visits < afterBurst + 3) await new Promise((resolve) => setTimeout(resolve, 20));
  running = false;
  await steady;

  expect([...failures, ...burst.flat()]).toEqual([]);
  // The old password no longer logs in; the connections the shop opened since the change did.
  await expect(topology.db(primary.name)).rejects.toThrow(/password authentication failed/);
  const check = new Client({
    host: "127.0.0.1",
    port: Number(new URL(primary.url).port),
    user: "shop",
    password,
    database: new URL(primary.url).pathname.slice(1),
  });
  await check.connect();
  try {
    const { rows } = await check.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'shop:primary' AND backend_start > $1",
      [changedAt],
    );
    expect(rows[0].n).toBeGreaterThan(0);
  } finally {
    await check.end();
  }
});
