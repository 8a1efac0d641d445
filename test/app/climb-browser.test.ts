/**
 * The climb's browser (scripts/climb/browser.ts) against a raw HTTP server that misbehaves on purpose: it follows a
 * 307 with the same method and body (the 1 → 2 write fence), sends again once when a kept-alive connection it reused
 * was closed under the request (a process draining), never when a fresh connection fails (whose outcome it tells
 * from a refused connection's), and keeps cookies as a browser does.
 */
import net from "node:net";
import { Browser, NetworkError, closeConnections } from "../../scripts/climb/browser";

interface Seen {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  /** This request's number on its connection, from 1. */
  onConnection: number;
}

let server: net.Server;
let baseUrl: string;
const seen: Seen[] = [];
/** `(request) => raw response`, or `"destroy"` to close the connection without a word. */
let answer: (request: Seen) => string | "destroy";

function respond(status: string, body: string, headers: string[] = []): string {
  return [`HTTP/1.1 ${status}`, `content-length: ${Buffer.byteLength(body)}`, ...headers, "", body].join("\r\n");
}

beforeAll(async () => {
  server = net.createServer((socket) => {
    let buffer = "";
    let count = 0;
    socket.on("error", () => undefined);
    socket.on("data", (chunk) => {
      buffer += chunk.toString();
      for (;;) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end < 0) return;
        const [start, ...lines] = buffer.slice(0, end).split("\r\n");
        const headers = Object.fromEntries(
          lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]),
        );
        const length = Number(headers["content-length"] ?? 0);
        if (buffer.length < end + 4 + length) return;
        const body = buffer.slice(end + 4, end + 4 + length);
        buffer = buffer.slice(end + 4 + length);
        const [method, path] = start.split(" ");
        const request = { method, path, headers, body, onConnection: ++count };
        seen.push(request);
        const reply = answer(request);
        if (reply === "destroy") return socket.destroy();
        socket.write(reply);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});
afterAll(async () => {
  closeConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen.length = 0;
  closeConnections(); // each case starts with no kept-alive connection to reuse
});

test("a 307 is followed with the same method, body and headers, as a browser does", async () => {
  answer = (r) =>
    r.path === "/api/checkout" && !r.headers["x-moved"]
      ? respond("307 Temporary Redirect", "", ["location: /api/checkout?again=1", "connection: close"])
      : respond("201 Created", JSON.stringify({ got: r.body, method: r.method }));
  const browser = new Browser(baseUrl);
  const response = await browser.post("/api/checkout", { n: 1 });
  expect(response.status).toBe(201);
  expect(response.json()).toEqual({ got: '{"n":1}', method: "POST" });
  expect(seen.map((r) => `${r.method} ${r.path}`)).toEqual(["POST /api/checkout", "POST /api/checkout?again=1"]);
  for (const r of seen) {
    expect(r.headers.origin).toBe(baseUrl);
    expect(r.headers["sec-fetch-site"]).toBe("same-origin");
    expect(r.headers["content-type"]).toBe("application/json");
  }
});

test("a reused connection closed under the request: sent again once, on a new connection", async () => {
  // The server closes each connection when its second request arrives, as a process that stops listening and
  // closes its idle connections may do while a request is on the way.
  answer = (r) => (r.onConnection === 2 ? "destroy" : respond("200 OK", `{"path":"${r.path}"}`));
  const browser = new Browser(baseUrl);
  expect((await browser.get("/a")).status).toBe(200);
  const second = await browser.post("/api/cart/items", { productId: 1, quantity: 1 });
  expect(second.status).toBe(200);
  expect(second.json()).toEqual({ path: "/api/cart/items" });
  expect(seen.map((r) => `${r.method} ${r.path} #${r.onConnection}`)).toEqual([
    "GET /a #1",
    "POST /api/cart/items #2",
    "POST /api/cart/items #1",
  ]);
});

test("a fresh connection closed under the request is a failure, never sent twice", async () => {
  answer = () => "destroy";
  const browser = new Browser(baseUrl);
  const error = await browser.post("/api/checkout").catch((e: unknown) => e);
  expect(error).toBeInstanceOf(NetworkError);
  expect(error).toMatchObject({ reached: true }); // the shop may have acted on it: its outcome is unknown
  expect(seen).toHaveLength(1);
});

test("nothing listening: a failure that cannot have reached the shop", async () => {
  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const error = await new Browser(`http://127.0.0.1:${port}`).post("/api/cart/items", {}).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(NetworkError);
  expect(error).toMatchObject({ reached: false, message: expect.stringContaining("ECONNREFUSED") });
});

test("cookies: kept, sent back, replaced in order, and dropped when expired", async () => {
  answer = (r) =>
    r.path === "/login"
      ? respond("200 OK", "{}", ["set-cookie: shop_session=old; Path=/; HttpOnly", "set-cookie: SHOPLB=web1; Path=/"])
      : r.path === "/checkout"
        ? respond("200 OK", "{}", [
            "set-cookie: shop_session=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
            "set-cookie: shop_session=new; Path=/; HttpOnly",
          ])
        : r.path === "/logout"
          ? respond("200 OK", "{}", ["set-cookie: SHOPLB=web1; Max-Age=0"])
          : respond("200 OK", "{}");
  const browser = new Browser(baseUrl);
  await browser.get("/login");
  await browser.get("/echo");
  expect(seen[1].headers.cookie).toBe("shop_session=old; SHOPLB=web1");
  await browser.post("/checkout");
  expect([...browser.cookies]).toEqual([
    ["SHOPLB", "web1"],
    ["shop_session", "new"],
  ]);
  await browser.get("/logout");
  expect([...browser.cookies]).toEqual([["shop_session", "new"]]);
});
