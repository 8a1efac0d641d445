/**
 * A second `pulumi up` with nothing changed, simulated: what the engine would update or replace when the program is
 * evaluated again against the state the first `up` left, after AWS has filled in and moved the fields of
 * `READ_BACK`.
 *
 * For each custom resource: state = the first run's inputs overlaid with what the read-back rows report; then the
 * second run's inputs are diffed against that state property by property, the way the bridged provider does (see
 * `read-back.ts`): a property the program no longer sets is a change unless the schema marks it Computed; a set
 * property is a change when it differs, unless the provider suppresses the difference; `ignoreChanges` hides
 * either. A change that touches a ForceNew input (`scripts/plan/force-new.ts`, which reads the climb test's table) is
 * a replacement. Separately, any input that differs between the two evaluations of the same program is reported as
 * non-determinism, and a resource present in only one of them as well.
 */
import { replacingInputs } from "../../scripts/plan/force-new";
import { ReadBackContext, ReadBackRow, readBackRowsOf } from "./read-back";
import { RegisteredResource, canonical, ignoredPathsUnder, isIgnored } from "./registered";

export interface SecondUpChange {
  kind: "update" | "replace";
  type: string;
  name: string;
  property: string;
  /** What the state holds after the read. */
  state: unknown;
  /** What the second run asks for (undefined: it does not set the property). */
  wanted: unknown;
  /** The read-back row that put the state value there, if one did. */
  row?: ReadBackRow;
  /** The exception that documents this change, if one does. */
  exception?: SecondUpException;
}

export interface NonDeterminism {
  type: string;
  name: string;
  /** An input that differs, or `(resource)` when the resource exists in only one run. */
  property: string;
  first: unknown;
  second: unknown;
}

/** A change a second `up` is allowed to make, and why. */
export interface SecondUpException {
  type: string;
  /** Logical name pattern; `*` matches any run of characters. */
  name: string;
  property: string;
  reason: string;
  source: string;
}

/**
 * Changes a second `up` may make. Empty: every diff-on-read field of this program is either Computed, suppressed
 * by the provider, or hidden by `ignoreChanges` — keep it that way, or write the reason here.
 */
export const SECOND_UP_EXCEPTIONS: readonly SecondUpException[] = [];

const escape = (text: string) => text.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
const matches = (pattern: string, name: string) =>
  new RegExp(`^${pattern.split("*").map(escape).join(".*")}$`).test(name);

/** The exception that covers a change, if any. */
export function exceptionFor(
  type: string,
  name: string,
  property: string,
  table: readonly SecondUpException[] = SECOND_UP_EXCEPTIONS,
): SecondUpException | undefined {
  return table.find((e) => e.type === type && e.property === property && matches(e.name, name));
}

/** `value` without the paths `ignoreChanges` hides under it (`version` of `launchTemplate`). */
function withoutPaths(value: unknown, paths: string[]): unknown {
  if (paths.length === 0 || !value || typeof value !== "object") return value;
  const copy = JSON.parse(JSON.stringify(value)) as Record<string, any>;
  for (const p of paths) {
    const parts = p.split(".");
    let v: any = copy;
    for (const part of parts.slice(0, -1)) v = v?.[part];
    if (v && typeof v === "object") delete v[parts[parts.length - 1]];
  }
  return copy;
}

/** The state the first `up` leaves for a resource, once the provider has read it back. */
export function stateAfterRead(
  r: RegisteredResource,
  ctx: ReadBackContext,
): { state: Record<string, any>; rows: Map<string, ReadBackRow> } {
  const state: Record<string, any> = { ...r.inputs };
  const rows = new Map<string, ReadBackRow>();
  for (const row of readBackRowsOf(r.type)) {
    const value = row.read(r, ctx);
    if (value === undefined) continue;
    state[row.property] = value;
    rows.set(row.property, row);
  }
  return { state, rows };
}

/** The property changes the engine would make to one resource on the second `up`. */
export function changesOf(
  before: RegisteredResource,
  after: RegisteredResource,
  ctx: ReadBackContext,
): SecondUpChange[] {
  const { state, rows } = stateAfterRead(before, ctx);
  const changed: Array<Omit<SecondUpChange, "kind">> = [];
  for (const property of [...new Set([...Object.keys(state), ...Object.keys(after.inputs)])].sort()) {
    if (isIgnored(after, property)) continue;
    const row = rows.get(property);
    const hidden = ignoredPathsUnder(after, property);
    const old = withoutPaths(state[property], hidden);
    const wanted = withoutPaths(after.inputs[property], hidden);
    if (wanted === undefined) {
      if (old === undefined || row?.computed) continue;
    } else if (canonical(old) === canonical(wanted) || row?.suppress?.(old, wanted, after.inputs)) {
      continue;
    }
    const exception = exceptionFor(after.type, after.name, property);
    changed.push({ type: after.type, name: after.name, property, state: old, wanted, row, exception });
  }
  if (changed.length === 0) return [];
  const forcing =
    replacingInputs(
      after.type,
      changed.map((c) => c.property),
      after.inputs,
      state,
    ) ?? [];
  const replacing = new Set(forcing.map((x) => x.input.split(".")[0]));
  return changed.map((c) => ({ ...c, kind: replacing.has(c.property) ? "replace" : "update" }));
}

/** Everything the second `up` would change, resource by resource (custom resources only; matched by URN). */
export function secondUpChanges(
  first: readonly RegisteredResource[],
  second: readonly RegisteredResource[],
  outputsOf: ReadBackContext["outputsOf"],
): SecondUpChange[] {
  const ctx: ReadBackContext = { resources: first, outputsOf };
  const next = new Map(second.map((r) => [r.urn, r]));
  return first
    .filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"))
    .flatMap((r) => {
      const after = next.get(r.urn);
      return after ? changesOf(r, after, ctx) : [];
    });
}

/** Inputs and resources that differ between two evaluations of the same program and configuration. */
export function nonDeterminism(
  first: readonly RegisteredResource[],
  second: readonly RegisteredResource[],
): NonDeterminism[] {
  const out: NonDeterminism[] = [];
  const a = new Map(first.map((r) => [r.urn, r]));
  const b = new Map(second.map((r) => [r.urn, r]));
  for (const [urn, r] of a) {
    const s = b.get(urn);
    if (!s) {
      out.push({ type: r.type, name: r.name, property: "(resource)", first: "present", second: "absent" });
      continue;
    }
    for (const k of [...new Set([...Object.keys(r.inputs), ...Object.keys(s.inputs)])].sort()) {
      if (canonical(r.inputs[k]) === canonical(s.inputs[k])) continue;
      out.push({ type: r.type, name: r.name, property: k, first: r.inputs[k], second: s.inputs[k] });
    }
  }
  for (const [urn, s] of b) {
    if (a.has(urn)) continue;
    out.push({ type: s.type, name: s.name, property: "(resource)", first: "absent", second: "present" });
  }
  return out;
}

/** One line per change, for a failing assertion. */
export function describeChange(c: SecondUpChange): string {
  const brief = (v: unknown) => {
    const t = JSON.stringify(v) ?? "undefined";
    return t.length > 90 ? `${t.slice(0, 87)}...` : t;
  };
  const why = c.row ? ` (read back: ${c.row.reports.split(/[;(]/)[0].trim()})` : "";
  return `${c.kind} ${c.type} ${c.name}: ${c.property} ${brief(c.state)} -> ${brief(c.wanted)}${why}`;
}
