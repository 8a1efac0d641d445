/**
 * Ladder graphs evaluated once and kept on disk: the first caller that needs the graph of a (configuration, stack)
 * evaluates it (`runLadder`) and writes it to `node_modules/.cache/scale-ladder/graphs/<key>.json`; every later
 * caller, in this process or another (jest workers, the next test run), reads it back, without loading
 * `@pulumi/pulumi` at all.
 *
 * The key is a hash of everything that produces the graph: the program's transitive sources (followed from
 * `stacks/config.ts` and `stacks/ladder.ts` through every relative import, so `stacks/`, `components/`, `lib/` and
 * whatever else they import), the harness and mock outputs (and this file), `package-lock.json` (the `@pulumi`
 * versions), the Node major version, the content of every file or folder a config value names (the build the
 * program hashes and uploads), the configuration and the stack name. A changed source makes a new key.
 *
 * Workers share the cache: a caller takes `<key>.lock` (created exclusively, holding its pid) before it evaluates,
 * and others wait for the graph to appear; a lock whose process is gone, or older than {@link STALE_LOCK_MS}, is
 * taken over. A graph is written to a temp file and renamed into place, so no reader sees half of one.
 *
 * `SCALE_LADDER_GRAPH_CACHE=off` evaluates every graph fresh (nothing is read or written); any other value is the
 * cache folder to use.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Graph, GraphData, runLadder } from "./harness";

/** The repository root. */
export const ROOT = path.resolve(__dirname, "../..");

/** Bump when the stored format changes. */
const FORMAT = 1;
/** A lock older than this is taken over even if its process seems alive (pid reuse, another machine). */
export const STALE_LOCK_MS = 10 * 60_000;
const POLL_MS = 100;

/** One graph to get: the stack configuration (`stackConfig(...)`) and the stack name. */
export interface GraphRequest {
  config: Record<string, string>;
  stack?: string;
}

/** Where and how the cache works; every field has a default, tests inject their own. */
export interface CacheOptions {
  /** Cache folder. @default node_modules/.cache/scale-ladder/graphs (or `$SCALE_LADDER_GRAPH_CACHE`) */
  dir?: string;
  /** Files whose content makes the key. @default {@link programSources}() plus package-lock.json */
  sources?: readonly string[];
  /** How a missing graph is made. @default runLadder */
  evaluate?: (config: Record<string, string>, stack: string) => Promise<Graph>;
}

/** False when `SCALE_LADDER_GRAPH_CACHE=off`: every graph is then evaluated fresh. */
export function cacheEnabled(): boolean {
  return process.env.SCALE_LADDER_GRAPH_CACHE !== "off";
}

/** The default cache folder. */
export function defaultCacheDir(): string {
  const env = process.env.SCALE_LADDER_GRAPH_CACHE;
  return env && env !== "off" ? path.resolve(env) : path.join(ROOT, "node_modules", ".cache", "scale-ladder", "graphs");
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)["'](\.{1,2}\/[^"']+)["']/gm;
const EXTENSIONS = ["", ".ts", ".tsx", ".js", ".mjs", ".cjs", ".json", "/index.ts", "/index.js"];

/**
 * The files a program's graph depends on: the entry files and every file they reach through relative imports
 * (`import ... from "./x"`, `import("./x")`, `require("./x")`), sorted. Package imports are covered by the lock file.
 */
export function transitiveSources(entries: readonly string[]): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    if (!/\.[cm]?[jt]sx?$/.test(file)) return;
    const text = fs.readFileSync(file, "utf8");
    for (const m of text.matchAll(IMPORT)) {
      const base = path.resolve(path.dirname(file), m[1]);
      const found = EXTENSIONS.map((e) => base + e).find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
      // Unresolved: the text only looked like an import (a comment, a string); the program could not load it either.
      if (found) visit(found);
    }
  };
  entries.forEach((e) => visit(path.resolve(e)));
  return [...seen].sort();
}

let defaultSources: string[] | undefined;
/** The sources of the ladder as the harness evaluates it, with the harness, the mocks, this file and the lock file. */
export function programSources(): string[] {
  defaultSources ??= [
    ...transitiveSources(
      ["stacks/config.ts", "stacks/ladder.ts", "lib/graph/harness.ts", "lib/graph/graph-cache.ts"].map((f) =>
        path.join(ROOT, f),
      ),
    ),
    path.join(ROOT, "package-lock.json"),
  ];
  return defaultSources;
}

/** Hash of the sources' paths (relative to the root) and contents. */
export function hashSources(sources: readonly string[]): string {
  const hash = createHash("sha256");
  for (const f of sources)
    hash
      .update(`${path.relative(ROOT, f)}\0`)
      .update(fs.readFileSync(f))
      .update("\0");
  return hash.digest("hex");
}

let programHash: string | undefined;
/** The hash of {@link programSources}, once per process (the sources do not change under a running test). */
function programSourcesHash(): string {
  return (programHash ??= hashSources(programSources()));
}

/** Adds the content of a file or folder a config value names (recursively: names and bytes) to the hash. */
function hashPath(p: string, hash: ReturnType<typeof createHash>): void {
  const st = fs.statSync(p);
  if (st.isDirectory()) {
    for (const e of fs.readdirSync(p).sort()) {
      hash.update(`dir ${e}\0`);
      hashPath(path.join(p, e), hash);
    }
  } else hash.update(fs.readFileSync(p));
}

/** The cache key of a graph: see the module doc for what goes into it. */
export function graphKey(config: Record<string, string>, stack = "test", opts: CacheOptions = {}): string {
  const hash = createHash("sha256");
  hash.update(`format ${FORMAT}\0node ${process.versions.node.split(".")[0]}\0`);
  hash.update(`sources ${opts.sources ? hashSources(opts.sources) : programSourcesHash()}\0`);
  hash.update(`stack ${stack}\0`);
  for (const k of Object.keys(config).sort()) {
    const v = config[k];
    hash.update(`config ${k}=${v}\0`);
    if (path.isAbsolute(v) && fs.existsSync(v)) hashPath(v, hash.update("content\0"));
  }
  return `${String(config["scale-ladder:step"] ?? "x").padStart(2, "0")}-${stack}-${hash.digest("hex").slice(0, 32)}`;
}

const UNDEFINED = "$scale-ladder:undefined";

/** A value as JSON-safe data: `undefined` (present but undefined) is kept as a marker; anything not plain throws. */
function encode(v: unknown, at: string): unknown {
  if (v === undefined) return { [UNDEFINED]: true };
  if (v === null || typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") {
    if (!Number.isFinite(v) || Object.is(v, -0)) throw new Error(`graph value ${at} = ${v} does not survive JSON`);
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => encode(x, `${at}[${i}]`));
  if (typeof v === "object") {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null)
      throw new Error(`graph value ${at} is a ${proto?.constructor?.name ?? "non-plain object"}, not plain data`);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encode(x, `${at}.${k}`)]));
  }
  throw new Error(`graph value ${at} is a ${typeof v}, not plain data`);
}

/** The inverse of {@link encode}. */
function decode(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(decode);
  if (typeof v === "object" && v !== null) {
    if ((v as Record<string, unknown>)[UNDEFINED] === true && Object.keys(v).length === 1) return undefined;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = decode(x);
    return out;
  }
  return v;
}

/** A graph as the cache stores it (throws if any value is not plain data). */
export function serializeGraph(g: Graph): string {
  return JSON.stringify(encode(g.toData(), "graph"));
}

/** A graph back from {@link serializeGraph}'s text. */
export function deserializeGraph(text: string): Graph {
  return Graph.fromData(decode(JSON.parse(text)) as GraphData);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes the lock, or says who holds it; removes a stale lock (its process is gone, or it is too old) first. */
function tryLock(lock: string): boolean {
  try {
    const fd = fs.openSync(lock, "wx");
    fs.writeSync(fd, `${process.pid} ${os.hostname()} ${new Date().toISOString()}\n`);
    fs.closeSync(fd);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  try {
    const text = fs.readFileSync(lock, "utf8");
    const [pid, host] = text.split(" ");
    const age = Date.now() - fs.statSync(lock).mtimeMs;
    const dead = host === os.hostname() && !alive(Number(pid));
    // A lock written a moment ago may still be empty; only a complete one names a process to check.
    if ((pid && dead) || age > STALE_LOCK_MS) {
      // Another waiter may take it over at the same time: rename is atomic, so exactly one of them removes it.
      const gone = `${lock}.stale-${process.pid}`;
      fs.renameSync(lock, gone);
      fs.rmSync(gone, { force: true });
    }
  } catch {
    // The holder finished (or another waiter took the lock over) in between: look again.
  }
  return false;
}

/** Writes atomically: a temp file in the same folder, renamed into place. */
function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/**
 * The graphs of several stacks, each evaluated at most once across every process that shares the cache. While
 * another process evaluates one of them, this one evaluates the next that nobody holds, so two workers asking for
 * the same list split the work. Results are in request order; each call returns fresh objects (a test may not
 * change another's graph). Rejects with the program's error when a configuration makes it throw.
 */
export async function ladderGraphs(requests: readonly GraphRequest[], opts: CacheOptions = {}): Promise<Graph[]> {
  const evaluate = opts.evaluate ?? runLadder;
  if (!cacheEnabled() && !opts.dir) {
    const out: Graph[] = [];
    for (const r of requests) out.push(await evaluate(r.config, r.stack ?? "test"));
    return out;
  }
  const dir = opts.dir ?? defaultCacheDir();
  fs.mkdirSync(dir, { recursive: true });
  const keys = requests.map((r) => graphKey(r.config, r.stack ?? "test", opts));
  const texts = new Map<string, string>();
  const pending = new Set(keys);
  for (;;) {
    let progressed = false;
    for (const key of [...pending]) {
      const file = path.join(dir, `${key}.json`);
      const read = () => {
        texts.set(key, fs.readFileSync(file, "utf8"));
        pending.delete(key);
        progressed = true;
      };
      if (fs.existsSync(file)) {
        read();
        continue;
      }
      const lock = path.join(dir, `${key}.lock`);
      if (!tryLock(lock)) continue;
      try {
        if (fs.existsSync(file)) {
          read();
          continue;
        }
        const r = requests[keys.indexOf(key)];
        const text = serializeGraph(await evaluate(r.config, r.stack ?? "test"));
        writeAtomic(file, text);
        texts.set(key, text);
        pending.delete(key);
        progressed = true;
      } finally {
        fs.rmSync(lock, { force: true });
      }
    }
    if (pending.size === 0) break;
    if (!progressed) await sleep(POLL_MS);
  }
  return keys.map((k) => deserializeGraph(texts.get(k)!));
}

/** The graph of one stack, through the cache (see {@link ladderGraphs}). */
export async function ladderGraph(config: Record<string, string>, stack = "test", opts?: CacheOptions): Promise<Graph> {
  return (await ladderGraphs([{ config, stack }], opts))[0];
}
