/**
 * One shopper's browser, as far as the shop can tell: a cookie jar of its own (the shop's session and, at steps
 * 3–6, the load balancer's stickiness cookie), the headers a browser's `fetch` sends from the storefront page, and
 * the two things a browser does on its own that the climb relies on: it follows a `307` with the same method and
 * body (the 1 → 2 write fence hands held writes to the new server that way), and it sends a request again when a
 * kept-alive connection it reused turns out to have been closed before any byte of an answer came back (a process
 * that drains closes its idle connections; Chromium resends then, and Node's documentation advises the same,
 * `request.reusedSocket`).
 */
import http from "node:http";
import { applySetCookies, cookieHeader } from "../../lib/cookie-jar";

/** An answer, its body read as text. */
export interface BrowserResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON; throws on a body that is not JSON. */
  json<T = unknown>(): T;
  /** From the first byte sent to the last byte read, redirects and resends included, in ms. */
  ms: number;
}

/** A request that got no answer at all (refused, reset, timed out). */
export class NetworkError extends Error {
  /**
   * @param message what happened.
   * @param reached false when no connection was ever made (nothing listening): the shop cannot have seen it.
   */
  constructor(
    message: string,
    readonly reached: boolean,
  ) {
    super(message);
  }
}

/** Redirects followed before giving up: the write fence needs one. */
const MAX_REDIRECTS = 5;

/** A request that has had no answer after this long counts as failed (the fence holds writes 15 s at most). */
export const REQUEST_TIMEOUT_MS = 30_000;

/** Codes of a connection closed under a request, as Node reports them. */
const CLOSED = new Set(["ECONNRESET", "EPIPE", "ECONNREFUSED"]);

/** Keeps connections between requests, as browsers do; one agent for every shopper of the run. */
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** Destroys the kept-alive connections (at the end of a run, so the process can exit). */
export function closeConnections(): void {
  agent.destroy();
}

/** A browser on the site at `baseUrl` (`http://127.0.0.1:<port>`). */
export class Browser {
  /** Cookie name → value. */
  readonly cookies = new Map<string, string>();
  private readonly origin: string;

  /**
   * @param baseUrl the site's entry URL.
   * @param extraHeaders sent on every request (e.g. the admin's `Authorization`). @default {}
   */
  constructor(
    readonly baseUrl: string,
    private readonly extraHeaders: Record<string, string> = {},
  ) {
    this.origin = new URL(baseUrl).origin;
  }

  get(path: string): Promise<BrowserResponse> {
    return this.send("GET", path);
  }

  post(path: string, body?: unknown): Promise<BrowserResponse> {
    return this.send("POST", path, body);
  }

  patch(path: string, body: unknown): Promise<BrowserResponse> {
    return this.send("PATCH", path, body);
  }

  delete(path: string): Promise<BrowserResponse> {
    return this.send("DELETE", path);
  }

  /** Sends one request as the storefront's `fetch` would; rejects with {@link NetworkError} when nothing answered. */
  async send(method: string, path: string, body?: unknown): Promise<BrowserResponse> {
    const t0 = performance.now();
    let url = new URL(path, this.baseUrl);
    for (let hop = 0; ; hop++) {
      const answer = await this.once(method, url, body);
      const location = answer.headers.location;
      if (answer.status === 307 && location && hop < MAX_REDIRECTS) {
        url = new URL(location, url);
        continue;
      }
      return { ...answer, ms: performance.now() - t0 };
    }
  }

  private async once(method: string, url: URL, body: unknown): Promise<Omit<BrowserResponse, "ms">> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.request(method, url, body);
      } catch (error) {
        const { reused, code, connected } = error as { reused?: boolean; code?: string; connected?: boolean };
        // Only a reused connection that closed before any answer, once: the request never reached a process
        // that would answer it (a fresh connection that fails is a real failure).
        if (!(reused && code && CLOSED.has(code)) || attempt > 0)
          throw new NetworkError((error as Error).message, connected !== false);
      }
    }
  }

  private request(method: string, url: URL, body: unknown): Promise<Omit<BrowserResponse, "ms">> {
    const headers: Record<string, string> = { accept: "application/json", ...this.extraHeaders };
    const cookie = cookieHeader(this.cookies);
    if (cookie !== undefined) headers.cookie = cookie;
    let payload: string | undefined;
    if (method !== "GET") {
      // The storefront's fetch from its own page: 127.0.0.1 is a secure context, so Chromium sends Sec-Fetch-Site
      // even over plain HTTP, and Origin on every state-changing request (app/src/http/csrf.ts checks either).
      headers.origin = this.origin;
      headers["sec-fetch-site"] = "same-origin";
    }
    if (body !== undefined) {
      payload = JSON.stringify(body);
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(payload));
    }
    return new Promise((resolve, reject) => {
      const req = http.request(
        { agent, host: url.hostname, port: url.port, method, path: url.pathname + url.search, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", reject);
          res.on("end", () => {
            applySetCookies(this.cookies, res.headers["set-cookie"]);
            const text = Buffer.concat(chunks).toString("utf8");
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
          });
        },
      );
      let connected = false;
      req.on("socket", (socket) => {
        if (!socket.connecting) connected = true;
        else socket.once("connect", () => (connected = true));
      });
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)));
      // An error on the request itself (not on `res`) means no answer had begun.
      req.on("error", (error: NodeJS.ErrnoException) =>
        reject(Object.assign(error, { reused: req.reusedSocket, connected })),
      );
      req.end(payload);
    });
  }
}
