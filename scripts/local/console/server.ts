/**
 * The ladder console, served on the launcher's control endpoint (P+1, 127.0.0.1): `GET /` is the page (static
 * files in page/, no framework, no build step), `GET /console/state?seq=N&after=E` the JSON it asks for again as soon
 * as it has drawn it (answered when the poll after N ends, so once a second, with the events after E), and the fault
 * buttons post to the control endpoint's own `POST /fault`.
 *
 * - Nothing comes from outside 127.0.0.1: Mermaid's browser bundle is served from node_modules at
 *   /console/mermaid.min.js, and every answer carries a strict content security policy ({@link CONSOLE_CSP}):
 *   scripts, data and everything else from this origin only, no inline script, no framing.
 * - The diagram is the step doc's: the ```mermaid block of docs/steps/NN-*.md, which `npm run docs` writes from the
 *   program (scripts/plan/diagram.ts) and test/infra/docs.test.ts keeps fresh. The console draws the same picture
 *   the docs show, without evaluating the program at run time.
 * - The figures come from one shared poll (collector.ts), however many pages are open.
 * - The control endpoint's POSTs (stop, fault, climb) refuse cross-site requests ({@link crossSiteProblem}): any web
 *   page a developer has open could otherwise POST a form or a `text/plain` fetch to 127.0.0.1:P+1/stop.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import type http from "node:http";
import path from "node:path";
import { STEPS } from "../../../stacks/steps";
import { PROJECT_DIR } from "../options";
import { FAULTS, type FaultKind } from "../services/service";
import { type ConsoleSource, type Figures, FiguresCollector, type ServiceHealth } from "./collector";
import type { ConsoleEvent, EventLog } from "./events";

/**
 * The page's policy: everything from this origin only. Styles also allow inline ones, because Mermaid writes the
 * diagram's styles into the SVG it makes (a `<style>` element); scripts never run inline.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** Longest a `GET /console/state?seq=N` waits for a poll newer than N before it answers with what there is. */
export const STATE_WAIT_MS = 2500;

/** The page's files, by URL path. */
const PAGE_DIR = path.join(__dirname, "page");
const FILES: Record<string, { file: string; type: string }> = {
  "/": { file: path.join(PAGE_DIR, "index.html"), type: "text/html; charset=utf-8" },
  "/console/console.js": { file: path.join(PAGE_DIR, "console.js"), type: "text/javascript; charset=utf-8" },
  "/console/console.css": { file: path.join(PAGE_DIR, "console.css"), type: "text/css; charset=utf-8" },
  "/console/mermaid.min.js": {
    file: path.join(PROJECT_DIR, "node_modules", "mermaid", "dist", "mermaid.min.js"),
    type: "text/javascript; charset=utf-8",
  },
};

/** What `GET /console/state` answers. */
export interface ConsoleState {
  step: number;
  /** The step's name and what it adds (stacks/steps.ts). */
  name: string;
  adds: string;
  entryUrl: string;
  /** True while a climb runs (the services change under it). */
  climbing: boolean;
  /** The step doc's Mermaid source; empty when the doc has none. */
  diagram: string;
  services: ServiceHealth[];
  figures: Figures | null;
  /** The fault actions this step can take, and the names each one may target (none: it takes no target). */
  faults: Array<{ kind: FaultKind; description: string; targets: string[] }>;
  /** The events after the `after` id the page sent. */
  events: ConsoleEvent[];
}

/** What the console needs from the launcher beyond the collector's sources. */
export interface ConsoleHost extends ConsoleSource {
  entryUrl(): string;
  climbing(): boolean;
  /** The fault kinds this step can take, each with the names it may target (empty: it takes no target). */
  faultTargets(): Partial<Record<FaultKind, string[]>>;
}

/** The ```mermaid block of docs/steps/NN-*.md (`step`), read once per step. */
export function stepDiagram(step: number, docsDir = path.join(PROJECT_DIR, "docs", "steps")): string {
  const prefix = `${String(step).padStart(2, "0")}-`;
  const file = existsSync(docsDir) ? readdirSync(docsDir).find((f) => f.startsWith(prefix) && f.endsWith(".md")) : "";
  if (!file) return "";
  const match = /```mermaid\n([\s\S]*?)\n```/.exec(readFileSync(path.join(docsDir, file), "utf8"));
  return match ? match[1] : "";
}

/**
 * Why a request to the control endpoint must be refused, or undefined to serve it. Every request must name this
 * endpoint as its Host (a DNS-rebinding page names its own), and a POST must be `application/json` (which no form
 * and no "simple" cross-site fetch can send without a CORS preflight, which this endpoint never grants) and, when it
 * carries an Origin, come from this endpoint's own page.
 */
export function crossSiteProblem(req: http.IncomingMessage, port: number): string | undefined {
  const host = req.headers.host;
  if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`)
    return `Host must be 127.0.0.1:${port} or localhost:${port}, got ${JSON.stringify(host ?? "")}`;
  if (req.method !== "POST") return undefined;
  const type = (req.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/json") return `content-type must be application/json, got ${JSON.stringify(type)}`;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://127.0.0.1:${port}` && origin !== `http://localhost:${port}`)
    return `Origin must be http://127.0.0.1:${port} (this console), got ${JSON.stringify(origin)}`;
  return undefined;
}

export class ConsoleServer {
  readonly collector: FiguresCollector;
  private diagram?: { step: number; source: string };
  private readonly cache = new Map<string, Buffer>();

  constructor(
    private readonly host: ConsoleHost,
    private readonly events: EventLog,
  ) {
    this.collector = new FiguresCollector(host, events);
  }

  /** Answers `req` if it is the console's (GET / and /console/*); false to let the control endpoint answer. */
  handle(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname === "/console/state") {
      const number = (name: string) => {
        const n = Number(url.searchParams.get(name) ?? "0");
        return Number.isFinite(n) ? n : 0;
      };
      this.collector.demand();
      // `seq`: the poll the page drew; it is answered when a newer one ends (STATE_WAIT_MS at most). Without one
      // (the page's first request) at once: the page draws the step, the diagram and the services right away.
      const drawn = url.searchParams.has("seq") ? this.collector.whenNewer(number("seq"), STATE_WAIT_MS) : undefined;
      void Promise.resolve(drawn).then(() => {
        if (!res.destroyed) this.send(res, 200, "application/json", JSON.stringify(this.state(number("after"))));
      });
      return true;
    }
    const entry = FILES[url.pathname];
    if (!entry) return false;
    let body = this.cache.get(entry.file);
    if (!body) {
      body = readFileSync(entry.file);
      // The page's own files are read at each request while you edit them; Mermaid's bundle once.
      if (url.pathname === "/console/mermaid.min.js") this.cache.set(entry.file, body);
    }
    this.send(res, 200, entry.type, body, req.method === "HEAD");
    return true;
  }

  /** The page's JSON: what runs, its health and figures, the fault actions, the events after `after`. */
  state(after = 0): ConsoleState {
    const step = this.host.step();
    const info = STEPS[step - 1];
    if (this.diagram?.step !== step) this.diagram = { step, source: stepDiagram(step) };
    const polled = this.collector.services();
    const health = new Map(polled.map((s) => [s.name, s.healthy]));
    const targets = this.host.faultTargets();
    return {
      step,
      name: info.name,
      adds: info.adds,
      entryUrl: this.host.entryUrl(),
      climbing: this.host.climbing(),
      diagram: this.diagram.source,
      // The rows as they are now (a climb changes them), with the health the last poll saw (null: not yet).
      services: this.host.services().map(({ row }) => ({ ...row, healthy: health.get(row.name) ?? null })),
      figures: this.collector.figures(),
      faults: (Object.keys(FAULTS) as FaultKind[])
        .filter((kind) => targets[kind] !== undefined)
        .map((kind) => ({ kind, description: FAULTS[kind], targets: targets[kind]! })),
      events: this.events.since(after),
    };
  }

  private send(res: http.ServerResponse, status: number, type: string, body: string | Buffer, head = false): void {
    res.writeHead(status, {
      "content-type": type,
      "content-length": Buffer.byteLength(body),
      "content-security-policy": CONSOLE_CSP,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "cache-control": "no-store",
    });
    res.end(head ? undefined : body);
  }

  /** Stops the poll and closes its connections. */
  stop(): Promise<void> {
    return this.collector.stop();
  }
}
