/** The one table the launcher prints once everything is ready (and `npm run local:fault -- status` prints). */
import type { ServiceStatus } from "./launcher";

/** Renders services as an aligned text table: what, where, pid, data and log. */
export function renderTable(services: ServiceStatus[]): string {
  const header = ["service", "kind", "region", "url", "pid", "data / config", "log", "note"];
  const rows = services.map((s) => [
    s.name,
    s.kind,
    s.region ?? "",
    s.url,
    s.running ? String(s.pid ?? "") : "stopped",
    s.data ?? "",
    s.log ?? "",
    [s.restarts ? `restarted ${s.restarts}×` : "", s.note ?? ""].filter(Boolean).join("; "),
  ]);
  // Columns that are empty everywhere are left out (no region column before step 11).
  const keep = header.map((_, i) => rows.some((r) => r[i] !== ""));
  const cols = header.map((h, i) => [h, ...rows.map((r) => r[i])]).filter((_, i) => keep[i]);
  const widths = cols.map((c) => Math.max(...c.map((v) => v.length)));
  const line = (cells: string[]) =>
    cells
      .map((v, i) => v.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  const all = [header, ...rows].map((r) => r.filter((_, i) => keep[i]));
  return [line(all[0]), widths.map((w) => "-".repeat(w)).join("  "), ...all.slice(1).map(line)].join("\n");
}
