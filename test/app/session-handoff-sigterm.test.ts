/**
 * A memory-session web process stopped by SIGTERM alone (an instance refresh, `systemctl stop`, a climb's roll
 * without the runbook's handoff call) hands its sessions over before it stops listening (start-server.ts), and a
 * change a shopper makes during the handover is carried too. A real `node scripts/run.mjs app/src/server.ts`
 * process; the handover is held at the table's lock to look at the server in the middle of it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import { pollUntil } from "../../lib/servers/poll";
import { clientFor } from "../../lib/servers/postgres-cluster";
import { httpRequest } from "./support/http-client";
import { type ShopInstance, type Suite, openSuite, startShop } from "./support/shop-instances";
import { Shopper } from "./support/shopper";
import { testEnv } from "./support/test-app";

const ROOT = path.resolve(__dirname, "../..");

let suite: Suite;
let successor: ShopInstance;
let child: ChildProcess | undefined;

beforeAll(async () => {
  suite = await openSuite("session_handoff_sigterm");
  successor = await startShop(suite);
});
afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await successor?.close();
  await suite?.close();
});

/** The server as its own process, memory sessions (the default), logging at info; resolves once it listens. */
async function spawnServer(): Promise<{ url: string; lines: Array<Record<string, unknown>>; exited: Promise<number> }> {
  const env = testEnv(suite.db, {
    PORT: "0",
    LOG_LEVEL: "info",
    // The test holds the handover at a lock for a moment: the pool must not give up on it meanwhile.
    DB_QUERY_TIMEOUT_MS: "30000",
    SHUTDOWN_TIMEOUT_MS: "30000",
  });
  child = spawn(process.execPath, ["scripts/run.mjs", "app/src/server.ts"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines: Array<Record<string, unknown>> = [];
  createInterface({ input: child.stdout! }).on("line", (text) =>
    lines.push(JSON.parse(text) as Record<string, unknown>),
  );
  const exited = new Promise<number>((resolve) => child!.once("exit", (code) => resolve(code ?? -1)));
  let gone = false;
  void exited.then(() => (gone = true));
  await pollUntil("the server to listen", async () => {
    if (gone) throw new Error(`the server exited at start: ${JSON.stringify(lines)}`);
    return lines.some((line) => line.msg === "server ready");
  });
  const url = lines.find((line) => line.msg === "server ready")!.address as string;
  return { url, lines, exited };
}

/** GET `url` on a connection of its own: the server accepts connections still. */
function statusOnNewConnection(url: string): Promise<number> {
  return new Promise((resolve, reject) =>
    http
      .get(url, { agent: false }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      })
      .on("error", reject),
  );
}

test("SIGTERM hands the memory sessions over while the server still listens; the cart is read elsewhere", async () => {
  const server = await spawnServer();
  const shopper = new Shopper({ request: (request) => httpRequest(server.url, request) });
  expect((await shopper.post("/api/cart/items", { productId: 7, quantity: 2 })).status).toBe(200);

  const lock = clientFor(suite.db.cluster, suite.db.cluster.primary, suite.db.name);
  await lock.connect();
  try {
    await lock.query("BEGIN");
    await lock.query("LOCK TABLE session_handoff IN ACCESS EXCLUSIVE MODE");
    child!.kill("SIGTERM");
    await pollUntil("the handover to wait for the table", async () => {
      const { rows } = await lock.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation " +
          "WHERE c.relname = 'session_handoff' AND NOT l.granted",
      );
      return rows[0].n > 0;
    });
    expect(server.lines.filter((line) => line.msg === "sessions handed over")).toEqual([]);
    // Mid-handover: still listening (a new connection is answered), and the shopper can still change the cart.
    expect(await statusOnNewConnection(`${server.url}/healthz`)).toBe(200);
    const lateWrite = shopper.post("/api/cart/items", { productId: 8, quantity: 1 });
    await lock.query("COMMIT");
    expect((await lateWrite).status).toBe(200);
  } finally {
    await lock.end();
  }
  // The exit code with the server's last lines, so that a failed shutdown says why.
  const code = await server.exited;
  if (code !== 0)
    throw new Error(`the server exited ${code}; its last lines: ${JSON.stringify(server.lines.slice(-6))}`);
  const messages = server.lines.map((line) => line.msg);
  expect(messages.indexOf("sessions handed over")).toBeGreaterThan(messages.indexOf("shutting down"));
  expect(messages.indexOf("stopped")).toBeGreaterThan(messages.indexOf("sessions handed over"));
  expect(server.lines.find((line) => line.msg === "sessions handed over")).toMatchObject({ sessions: 1 });

  const moved = new Shopper(successor);
  moved.cookie = shopper.cookie;
  const cart = await moved.get("/api/cart");
  expect(
    cart.json().items.map((item: { productId: number; quantity: number }) => [item.productId, item.quantity]),
  ).toEqual([
    [7, 2],
    [8, 1],
  ]);
});

test("a request arriving on an open connection while the server stops is served, and ends the connection", async () => {
  // What a climb's roll and an instance refresh meet: a client's keep-alive connection still open when the listener
  // closes, its next request arriving before the connection is swept. Fastify's return503OnClosing answered it
  // 503 (its own body, which no load balancer retries: the 2 -> 3 climb's shoppers saw it); a draining server serves
  // it, with `connection: close`, and the client's next request opens a connection elsewhere.
  const server = await spawnServer();
  const { port } = new URL(server.url);
  const socket = net.connect(Number(port), "127.0.0.1");
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let answer = "";
  socket.on("data", (chunk: Buffer) => (answer += chunk.toString()));
  const ended = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  // The request's first line and a header: the connection is busy (not idle), so the stop does not end it.
  socket.write("GET /api/products/3 HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  // (Its bytes are on loopback long before the signal's shutdown reaches the sweep: the handover's query comes first.)
  child!.kill("SIGTERM");
  await pollUntil("the server to refuse new connections", () =>
    statusOnNewConnection(`${server.url}/healthz`).then(
      () => false,
      (error: NodeJS.ErrnoException) => error.code === "ECONNREFUSED",
    ),
  );
  socket.write("\r\n");
  await ended;
  expect(answer.split("\r\n", 1)[0]).toBe("HTTP/1.1 200 OK");
  expect(answer.toLowerCase()).toContain("\r\nconnection: close\r\n");
  expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4))).toMatchObject({ id: 3 });
  expect(await server.exited).toBe(0);
});
