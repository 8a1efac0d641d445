/**
 * The server's timeouts (app/src/http/timeouts.ts): a client that trickles its body gets a 408 and a closed
 * connection within the request timeout, over a real socket; keep-alive outlives the load balancer's idle timeout.
 */
import { Socket } from "node:net";
import { ALB_IDLE_TIMEOUT_SECONDS } from "../../components/load-balancer-timeouts";
import { type TestApp, startTestApp } from "./support/test-app";

/** A short request timeout, so that the test takes seconds; the default is 10 s. */
const REQUEST_TIMEOUT_MS = 2000;
/** A byte of the body this often: the client never stalls long, it just never finishes. */
const TRICKLE_EVERY_MS = 400;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp("timeouts", { env: { REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) } });
});
afterAll(async () => {
  await t?.close();
});

/** What a slow client saw: the bytes the server sent, and when (ms after the headers) the connection closed. */
interface Trickled {
  response: string;
  closedAfterMs: number | null;
}

/**
 * Sends a POST's headers announcing `contentLength` bytes, then one byte of body every {@link TRICKLE_EVERY_MS},
 * until the server closes the connection or `giveUpMs` passes.
 */
function trickle(contentLength: number, giveUpMs: number): Promise<Trickled> {
  const { port } = new URL(t.url);
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const chunks: Buffer[] = [];
    let start = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (closedAfterMs: number | null) => {
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ response: Buffer.concat(chunks).toString("utf8"), closedAfterMs });
    };
    const giveUp = setTimeout(() => finish(null), giveUpMs);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("close", () => finish(Date.now() - start));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      // The server may reset the connection after its 408; what it sent is still in `chunks`.
      if (error.code !== "ECONNRESET" && error.code !== "EPIPE") reject(error);
    });
    socket.connect(Number(port), "127.0.0.1", () => {
      socket.write(
        "POST /api/cart/items HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
          `Content-Length: ${contentLength}\r\n\r\n`,
      );
      start = Date.now();
      timer = setInterval(() => {
        if (!socket.destroyed) socket.write(" ");
      }, TRICKLE_EVERY_MS);
    });
  });
}

test("a body sent a byte at a time gets a 408 and a closed connection within the request timeout", async () => {
  // 100 bytes at one per 400 ms would take 40 s; the server must not wait for them.
  const { response, closedAfterMs } = await trickle(100, REQUEST_TIMEOUT_MS * 4);
  expect(response.split("\r\n", 1)[0]).toBe("HTTP/1.1 408 Request Timeout");
  expect(closedAfterMs).not.toBeNull();
  // The request timeout, plus at most one of Node's connection checks (every second here).
  expect(closedAfterMs!).toBeLessThan(REQUEST_TIMEOUT_MS + 1500);
});

test("an idle keep-alive connection outlives the load balancer's idle timeout, and a silent one is closed", () => {
  const server = t.app.server;
  expect(server.keepAliveTimeout).toBeGreaterThan(ALB_IDLE_TIMEOUT_SECONDS * 1000);
  // Inactivity closes a socket only after keep-alive would have: never an idle connection the ALB may still use.
  expect(server.timeout).toBeGreaterThan(server.keepAliveTimeout);
  expect(server.requestTimeout).toBe(REQUEST_TIMEOUT_MS);
  expect(server.headersTimeout).toBeLessThanOrEqual(REQUEST_TIMEOUT_MS);
});
