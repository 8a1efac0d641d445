/**
 * CloudWatch dashboard bodies (PutDashboard's DashboardBody), checked against "Dashboard Body Structure and Syntax",
 *   https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
 * and, for the metrics array, "Metric Widget Structure and Syntax",
 *   https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Metric-Widget-Structure.html
 * (both read 2026-12-01): a 24-column grid (x 0–23, width 1–24, height 1–1000), at most 500 widgets; a metric
 * widget states its region and lists 1–500 metric rows, each `[namespace, metricName, dimName, dimValue, …,
 * {rendering options}]`, where "." repeats the value of the same position in the row above, or `[{ expression,
 * id, label }]` for metric math; periods are 1, 5, 10, 30 or a multiple of 60 seconds.
 */
import { MathType, QUERY_ID, checkMetricMath } from "./metric-math";

/** Widget types PutDashboard accepts. */
export const WIDGET_TYPES = ["metric", "text", "log", "alarm", "explorer"];
const VIEWS = ["timeSeries", "singleValue", "gauge", "bar", "pie", "table"];
const RENDERING_KEYS = ["accountId", "color", "id", "label", "period", "region", "stat", "visible", "yAxis"];
const MATH_KEYS = ["expression", "id", "label", "color", "period", "region", "visible", "yAxis", "accountId"];
/** CloudWatch statistics: the five plain ones, and percentiles and trimmed/winsorized statistics with a number. */
const STAT = new RegExp(
  `^(${[
    "SampleCount|Average|Sum|Minimum|Maximum|IQM",
    String.raw`p\d{1,2}(\.\d+)?`,
    String.raw`(tm|wm|tc|ts|pr)\d{1,2}(\.\d+)?|(TM|WM|TC|TS|PR)\(.+\)`,
  ].join("|")})$`,
);
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

const validPeriod = (p: unknown) => typeof p === "number" && ([1, 5, 10, 30].includes(p) || (p >= 60 && p % 60 === 0));

/** Problems with a dashboard body (a JSON string or an object); empty when PutDashboard would accept it. */
export function dashboardProblems(body: unknown): string[] {
  const out: string[] = [];
  let doc: any = body;
  if (typeof body === "string") {
    try {
      doc = JSON.parse(body);
    } catch (e) {
      return [`is not JSON: ${(e as Error).message}`];
    }
  }
  if (typeof doc !== "object" || doc === null || !Array.isArray(doc.widgets)) return ["needs a widgets array"];
  if (doc.widgets.length > 500) out.push(`${doc.widgets.length} widgets, over 500`);
  doc.widgets.forEach((w: any, i: number) => {
    const title = w?.properties?.title ?? w?.properties?.markdown?.slice(0, 20);
    const say = (m: string): void => void out.push(`widgets[${i}]${title ? ` (${title})` : ""}: ${m}`);
    if (!WIDGET_TYPES.includes(w?.type))
      return say(`type ${JSON.stringify(w?.type)} is not ${WIDGET_TYPES.join(", ")}`);
    const int = (k: string, min: number, max: number) => {
      if (w[k] !== undefined && !(Number.isInteger(w[k]) && w[k] >= min && w[k] <= max))
        say(`${k} ${w[k]} is not an integer ${min}–${max}`);
    };
    int("x", 0, 23);
    int("y", 0, Number.MAX_SAFE_INTEGER);
    int("width", 1, 24);
    int("height", 1, 1000);
    if ((w.x ?? 0) + (w.width ?? 6) > 24) say(`x ${w.x} + width ${w.width} overflows the 24-column grid`);
    if (typeof w.properties !== "object" || w.properties === null) return say("needs properties");
    if (w.type === "text" && typeof w.properties.markdown !== "string") say("a text widget needs properties.markdown");
    if (w.type === "metric") metricWidgetProblems(w.properties, say);
  });
  return out;
}

function metricWidgetProblems(p: any, say: (m: string) => void): void {
  if (typeof p.region !== "string" || !REGION.test(p.region))
    say(`region ${JSON.stringify(p.region)} is not a region name`);
  if (p.view !== undefined && !VIEWS.includes(p.view)) say(`view ${p.view} is not ${VIEWS.join(", ")}`);
  if (p.stat !== undefined && !STAT.test(p.stat)) say(`stat ${p.stat} is not a CloudWatch statistic`);
  if (p.period !== undefined && !validPeriod(p.period))
    say(`period ${p.period} is not 1, 5, 10, 30 or a multiple of 60`);
  if (!Array.isArray(p.metrics) || p.metrics.length === 0 || p.metrics.length > 500) {
    return say("metrics must be an array of 1–500 rows");
  }
  const ids: Record<string, MathType> = {};
  const expressions: Array<[number, string]> = [];
  let previous: unknown[] = [];
  p.metrics.forEach((row: unknown, r: number) => {
    const at = (m: string) => say(`metrics[${r}]: ${m}`);
    if (!Array.isArray(row) || row.length === 0) return at("is not a non-empty array");
    const last = row[row.length - 1];
    const options =
      typeof last === "object" && last !== null && !Array.isArray(last) ? (last as Record<string, unknown>) : undefined;
    const fields = options ? row.slice(0, -1) : row;
    if (fields.length === 0) {
      // A math row: [{ expression, id, label }].
      if (typeof options?.expression !== "string") return at("an options-only row must be a math expression");
      for (const k of Object.keys(options))
        if (!MATH_KEYS.includes(k)) at(`math option ${k} is not one of ${MATH_KEYS.join(", ")}`);
      if (options.id !== undefined) {
        if (typeof options.id !== "string" || !QUERY_ID.test(options.id))
          at(`id ${JSON.stringify(options.id)} must start lowercase`);
        else ids[options.id] = "TS";
      }
      expressions.push([r, options.expression]);
      return;
    }
    const resolved = fields.map((f, j) => (f === "." ? previous[j] : f));
    if (fields.some((f, j) => f === "." && previous[j] === undefined)) at(`"." with nothing above it to repeat`);
    if (resolved.length % 2 !== 0)
      at(`a metric row is namespace, name, then name/value pairs; got ${resolved.length} fields`);
    if (resolved.length > 2 + 2 * 30) at(`more than 30 dimensions`);
    resolved.forEach((f, j) => {
      if (typeof f !== "string" || f.length === 0 || f.length > (j < 2 ? 255 : 1024))
        at(`field ${j} ${JSON.stringify(f)} is not a non-empty string`);
    });
    if (typeof resolved[0] === "string" && !/^[^:][^:]*$/.test(resolved[0]))
      at(`namespace ${resolved[0]} may not start with or hold ":"`);
    previous = resolved;
    if (options) {
      for (const k of Object.keys(options))
        if (!RENDERING_KEYS.includes(k)) at(`option ${k} is not one of ${RENDERING_KEYS.join(", ")}`);
      if (options.stat !== undefined && !STAT.test(String(options.stat)))
        at(`stat ${options.stat} is not a CloudWatch statistic`);
      if (options.period !== undefined && !validPeriod(options.period)) at(`period ${options.period} is not valid`);
      if (options.id !== undefined) {
        if (typeof options.id !== "string" || !QUERY_ID.test(options.id))
          at(`id ${JSON.stringify(options.id)} must start lowercase`);
        else ids[options.id] = "TS";
      }
    }
  });
  for (const [r, expression] of expressions) {
    for (const m of checkMetricMath(expression, { ids, use: "graph" }).problems) say(`metrics[${r}]: ${m}`);
  }
}
