/** Pre-flight checks and readiness probes of the local topology: each failure says what is wrong and what to do. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import { connect, createServer } from "node:net";

/** A problem the user can fix; the launcher prints its message alone, without a stack. */
export class LocalError extends Error {}

const INSTALL: Record<string, string> = {
  "redis-server":
    "the cache (step 5 on) runs Debian's Redis: install it with `sudo apt-get install -y redis-server` (on " +
    "macOS: `brew install redis`)",
  haproxy:
    "the load balancer (step 3 on) is Debian's HAProxy: install it with `sudo apt-get install -y haproxy` (on " +
    "macOS: `brew install haproxy`)",
};

/** Fails unless `command` is on the PATH. */
export function requireCommand(command: string): void {
  try {
    execFileSync("/bin/sh", ["-c", `command -v ${command}`], { stdio: "pipe" });
  } catch {
    throw new LocalError(`${command} is missing: ${INSTALL[command] ?? `install ${command}`}.`);
  }
}

/** Who listens on `port`, as far as /proc tells (best effort: a pid and a command line, or nothing). */
function listener(port: number): string {
  try {
    const hex = port.toString(16).toUpperCase().padStart(4, "0");
    const inodes = new Set<string>();
    for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
      for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
        const cols = line.trim().split(/\s+/);
        if (cols[1]?.endsWith(`:${hex}`) && cols[3] === "0A") inodes.add(cols[9]);
      }
    }
    if (inodes.size === 0) return "";
    const out = execFileSync("/bin/sh", ["-c", "ls -l /proc/[0-9]*/fd 2>/dev/null || true"], {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    let pid = "";
    for (const line of out.split("\n")) {
      const dir = /^\/proc\/(\d+)\/fd:$/.exec(line);
      if (dir) pid = dir[1];
      const inode = /socket:\[(\d+)\]/.exec(line)?.[1];
      if (inode && inodes.has(inode)) {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
        return ` by pid ${pid} (${cmd.slice(0, 80)})`;
      }
    }
  } catch {
    // best effort
  }
  return "";
}

/** Resolves when nothing listens on 127.0.0.1:`port`; rejects naming the port and its use in the plan otherwise. */
export function requireFreePort(port: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        new LocalError(
          error.code === "EADDRINUSE"
            ? `port ${port} (${what}) is taken${listener(port)}. Stop what uses it, or pick other ports with ` +
                `--port (every port is an offset from it).`
            : `port ${port} (${what}) cannot be used: ${error.message}`,
        ),
      );
    });
    server.listen(port, "127.0.0.1", () => server.close(() => resolve()));
  });
}

/** One HTTP GET; resolves with the status and body, rejects on a connection error. */
export function httpGet(
  url: string,
  headers: Record<string, string> = {},
  timeoutMs = 3000,
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
  });
}

/** True when Redis on `port` answers PING (with AUTH). */
export function redisPing(port: number, password: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    let answer = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on("connect", () => socket.write(`AUTH ${password}\r\nPING\r\n`));
    socket.on("data", (c) => {
      answer += c.toString();
      if (answer.includes("+PONG")) done(true);
      else if (answer.includes("-")) done(false);
    });
    socket.on("error", () => done(false));
  });
}

/** Waits for `probe` to say yes; `failed` may throw to say it never will (the process died). */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  options: { timeoutMs?: number; failed?: () => Promise<string | undefined> } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  for (;;) {
    const reason = await options.failed?.();
    if (reason) throw new LocalError(`${what}: ${reason}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new LocalError(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One HTTP request with a JSON body; resolves with the status and body, rejects on a connection error. */
export function httpSend(
  url: string,
  method: string,
  body?: unknown,
  headers: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<{ status: number; body: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method,
        agent: false,
        timeout: timeoutMs,
        headers: payload
          ? { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(payload) }
          : headers,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end(payload);
  });
}

/** How many sockets listen on 127.0.0.1:`port` (two while a replacement shares it with SO_REUSEPORT). */
export function listenerCount(port: number): number {
  const hex = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  let count = 0;
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[1] === hex && cols[3] === "0A") count++;
  }
  return count;
}

/**
 * One keep-alive HTTP/1.1 connection, opened while a single process listens on a port, so that later requests
 * reach that process even once another one listens on the same port (SO_REUSEPORT spreads new connections). The
 * 1 → 2 cutover speaks to the old server through it. JSON requests and answers with a Content-Length only.
 */
export class PinnedConnection {
  private buffer = Buffer.alloc(0);
  private waiting?: { resolve: () => void; reject: (e: Error) => void };
  private closed?: Error;

  private constructor(
    private readonly socket: import("node:net").Socket,
    private readonly port: number,
  ) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.waiting?.resolve();
    });
    const end = (error?: Error) => {
      this.closed = error ?? new Error(`the connection to 127.0.0.1:${port} closed`);
      this.waiting?.reject(this.closed);
    };
    socket.on("end", () => end());
    socket.on("error", end);
    socket.on("close", () => end());
  }

  static open(port: number): Promise<PinnedConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port });
      socket.once("connect", () => resolve(new PinnedConnection(socket, port)));
      socket.once("error", reject);
    });
  }

  /** Sends one request on this connection and resolves with the answer. */
  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: string }> {
    if (this.closed) throw new LocalError(`${method} ${path}: ${this.closed.message}`);
    const payload = body === undefined ? "" : JSON.stringify(body);
    const head = [
      `${method} ${path} HTTP/1.1`,
      `host: 127.0.0.1:${this.port}`,
      "connection: keep-alive",
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ...(payload ? ["content-type: application/json", `content-length: ${Buffer.byteLength(payload)}`] : []),
    ];
    this.socket.write(`${head.join("\r\n")}\r\n\r\n${payload}`);
    for (;;) {
      const end = this.buffer.indexOf("\r\n\r\n");
      if (end >= 0) {
        const lines = this.buffer.subarray(0, end).toString("latin1").split("\r\n");
        const status = Number(lines[0].split(" ")[1]);
        const length = Number(/^content-length:\s*(\d+)/im.exec(lines.join("\n"))?.[1] ?? 0);
        if (this.buffer.length >= end + 4 + length) {
          const text = this.buffer.subarray(end + 4, end + 4 + length).toString("utf8");
          this.buffer = this.buffer.subarray(end + 4 + length);
          return { status, body: text };
        }
      }
      const closed = this.closedError();
      if (closed) throw new LocalError(`${method} ${path}: ${closed.message}`);
      await new Promise<void>((resolve, reject) => (this.waiting = { resolve, reject })).finally(
        () => (this.waiting = undefined),
      );
    }
  }

  private closedError(): Error | undefined {
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}
