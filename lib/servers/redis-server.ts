/**
 * Real `redis-server` processes for the app tests and the cache benchmark: each test file starts its own, on a free
 * loopback port, with no persistence (`--save '' --appendonly no`), and can kill, stall (SIGSTOP), resume and
 * restart it on the same port to see what the app does when Redis goes away and comes back.
 *
 * The binary is Debian's redis-server (`apt-get install redis-server`; .ci/run installs it). A missing binary
 * fails the test with that hint; it never skips.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { Socket } from "node:net";
import path from "node:path";
import { pollUntil } from "./poll";
import { freePort } from "./postgres-cluster";

const HOW_TO_INSTALL =
  "the app tests run a real Redis: install it with `apt-get install redis-server` (it provides /usr/bin/redis-server)";

/** The redis-server binary: REDIS_SERVER_BIN, or the first on PATH, or /usr/bin/redis-server. */
export function redisServerBinary(): string {
  const candidates = [
    process.env.REDIS_SERVER_BIN,
    ...(process.env.PATH ?? "").split(path.delimiter).map((dir) => path.join(dir, "redis-server")),
    "/usr/bin/redis-server",
  ];
  const found = candidates.find((candidate) => candidate && existsSync(candidate));
  if (!found) throw new Error(`redis-server not found: ${HOW_TO_INSTALL}`);
  return found;
}

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** AUTH password (`requirepass`). */
  password?: string;
  /** Serve TLS on the port instead of plain TCP, with these PEM files (no client certificates asked). */
  tls?: { certFile: string; keyFile: string; caFile: string };
  /** More `--name value` arguments, e.g. `["--maxmemory", "2mb"]`. */
  args?: string[];
}

/** A running redis-server. */
export interface RedisServer {
  port: number;
  /** `redis://127.0.0.1:<port>` (with the password, `rediss://` with TLS). */
  url: string;
  readonly pid: number | undefined;
  /** Sends one command (plain TCP only) and returns the raw reply text. */
  command(...args: string[]): Promise<string>;
  /** SIGKILL, and waits for the process to be gone. */
  kill(): Promise<void>;
  /** SIGSTOP: the server keeps its connections open but answers nothing. */
  pause(): void;
  /** SIGCONT after {@link pause}. */
  resume(): void;
  /** Starts a new, empty server on the same port (after {@link kill}). */
  restart(): Promise<void>;
  /** Stops the server (SIGKILL: nothing to persist). */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** One RESP command over a fresh plain TCP connection; resolves with the raw reply. */
export function sendCommand(port: number, args: string[], password?: string, timeoutMs = 2000): Promise<string> {
  const encode = (parts: string[]) =>
    `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join("")}`;
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let reply = "";
    const expected = password ? 2 : 1;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis on ${port}: no reply to ${args[0]} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on("data", (chunk) => {
      reply += chunk.toString("utf8");
      // Replies are counted by their first line; good enough for the simple commands the tests send.
      const complete = isComplete(reply, expected);
      if (complete !== undefined) {
        clearTimeout(timer);
        socket.destroy();
        resolve(complete);
      }
    });
    socket.connect(port, "127.0.0.1", () => {
      socket.write((password ? encode(["AUTH", password]) : "") + encode(args));
    });
  });
}

/** The last of `count` complete RESP replies in `text`, or undefined while incomplete. */
function isComplete(text: string, count: number): string | undefined {
  let offset = 0;
  let last = "";
  for (let i = 0; i < count; i += 1) {
    const end = parseReply(text, offset);
    if (end === undefined) return undefined;
    last = text.slice(offset, end);
    offset = end;
  }
  return last;
}

function parseReply(text: string, offset: number): number | undefined {
  const lineEnd = text.indexOf("\r\n", offset);
  if (lineEnd < 0) return undefined;
  const type = text[offset];
  const head = text.slice(offset + 1, lineEnd);
  if (type === "$") {
    const length = Number(head);
    if (length < 0) return lineEnd + 2;
    const end = lineEnd + 2 + length + 2;
    return Buffer.byteLength(text) >= end ? end : undefined;
  }
  if (type === "*") {
    let position = lineEnd + 2;
    for (let i = 0; i < Number(head); i += 1) {
      const next = parseReply(text, position);
      if (next === undefined) return undefined;
      position = next;
    }
    return position;
  }
  return lineEnd + 2;
}

/** Starts a redis-server on a free port and resolves once it answers PING. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = redisServerBinary();
  const port = await freePort();
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--protected-mode",
    "no",
  ];
  if (options.password) args.push("--requirepass", options.password);
  if (options.tls) {
    args.splice(1, 1, "0");
    args.push(
      "--tls-port",
      String(port),
      "--tls-cert-file",
      options.tls.certFile,
      "--tls-key-file",
      options.tls.keyFile,
    );
    args.push("--tls-ca-cert-file", options.tls.caFile, "--tls-auth-clients", "no");
  }
  args.push(...(options.args ?? []));

  let child: ChildProcess | undefined;
  let output = "";
  const launch = async () => {
    output = "";
    const started = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    child = started;
    running.add(started);
    let failure: string | undefined;
    started.once("error", (error) => {
      failure = `could not start ${binary} (${error.message}): ${HOW_TO_INSTALL}`;
    });
    started.once("exit", (code, signal) => {
      running.delete(started);
      failure ??= `exited with ${signal ?? code}`;
    });
    started.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    started.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await pollUntil(
      `redis-server on port ${port} to accept connections`,
      async () => {
        if (failure) throw new Error(`redis-server on port ${port} ${failure}\n${output.slice(-2000)}`);
        if (options.tls) return /Ready to accept connections/.test(output);
        return (await sendCommand(port, ["PING"], options.password).catch(() => "")).startsWith("+PONG");
      },
      { timeoutMs: 15_000, intervalMs: 20, detail: async () => output.slice(-2000) },
    );
  };
  await launch();

  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : "";
  const kill = async () => {
    const current = child;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    const gone = new Promise((resolve) => current.once("exit", resolve));
    current.kill("SIGCONT");
    current.kill("SIGKILL");
    await gone;
  };
  return {
    port,
    url: `${options.tls ? "rediss" : "redis"}://${auth}127.0.0.1:${port}`,
    get pid() {
      return child?.pid;
    },
    command: (...command) => sendCommand(port, command, options.password),
    kill,
    pause: () => child?.kill("SIGSTOP"),
    resume: () => child?.kill("SIGCONT"),
    restart: async () => {
      await kill();
      await launch();
    },
    stop: kill,
  };
}

/** The integer field `name` of an INFO reply. */
export function infoField(info: string, name: string): number {
  const match = new RegExp(`^${name}:(\\d+)`, "m").exec(info);
  if (!match) throw new Error(`no ${name} in INFO`);
  return Number(match[1]);
}

/**
 * A throw-away CA and a server certificate for 127.0.0.1 (via the openssl CLI), for a TLS redis-server.
 * Returns the PEM file paths.
 */
export function makeTlsFiles(dir: string): { certFile: string; keyFile: string; caFile: string } {
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => {
    try {
      execFileSync("openssl", args, { stdio: "pipe" });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new Error(
        code === "ENOENT"
          ? "openssl not found: the TLS test makes its certificates with it; install it with `apt-get install openssl`"
          : `openssl ${args[0]} failed: ` +
              `${(error as { stderr?: Buffer }).stderr?.toString() ?? (error as Error).message}`,
        { cause: error },
      );
    }
  };
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    file("ca.key"),
    "-out",
    file("ca.crt"),
    "-days",
    "2",
    "-subj",
    "/CN=shop-test-ca",
  );
  openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    file("server.key"),
    "-out",
    file("server.csr"),
    "-subj",
    "/CN=127.0.0.1",
  );
  writeFileSync(file("server.ext"), "subjectAltName=IP:127.0.0.1\n");
  openssl(
    "x509",
    "-req",
    "-in",
    file("server.csr"),
    "-CA",
    file("ca.crt"),
    "-CAkey",
    file("ca.key"),
    "-CAcreateserial",
    "-out",
    file("server.crt"),
    "-days",
    "2",
    "-extfile",
    file("server.ext"),
  );
  return { certFile: file("server.crt"), keyFile: file("server.key"), caFile: file("ca.crt") };
}
