/**
 * A type checker for CloudWatch metric math expressions, from the function table AWS publishes:
 *   https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
 *   (awsdocs/amazon-cloudwatch-user-guide doc_source/using-metric-math.md, read 2026-12-01).
 * Types are the page's: S (a scalar), TS (one time series), TS[] (an array of time series). An array literal
 * `[a, b]` is a TS[]: its elements must be time series (or arrays of them), so `MAX([m, 1])` — a scalar inside an
 * array — is not a documented form. The page also recommends against AVG, MAX, MIN, SUM, STDDEV, DATAPOINT_COUNT,
 * REMOVE_EMPTY and RUNNING_SUM in alarms ("CloudWatch attempts to retrieve a higher number of data points than the
 * number specified as Evaluation Periods. This function acts differently when extra data is requested"); alarms
 * and target-tracking policies (which AWS implements with alarms) must end in one time series (PutMetricAlarm:
 * "Any expression used in a PutMetricAlarm operation must return a single time series"; EC2 Auto Scaling, target
 * tracking with metric math: "Any expressions used in a metric specification must eventually return a single time
 * series").
 */

export type MathType = "S" | "TS" | "TS[]";

/** Where the expression runs: alarms and scaling policies are stricter than graphs. */
export type MathUse = "graph" | "alarm" | "scaling";

export interface MathContext {
  /** Ids of the other queries of the request and what each yields (a metric is a TS). */
  ids: Record<string, MathType>;
  use: MathUse;
}

/** Functions AWS recommends not to use in alarms (see the module comment). */
export const NOT_FOR_ALARMS = ["AVG", "DATAPOINT_COUNT", "MAX", "MIN", "REMOVE_EMPTY", "RUNNING_SUM", "STDDEV", "SUM"];

/** Id of a query: "letters, numbers, and underscore. The first character must be a lowercase letter" (max 255). */
export const QUERY_ID = /^[a-z][A-Za-z0-9_]{0,254}$/;

type Node =
  | { k: "num"; v: number }
  | { k: "str"; v: string }
  | { k: "id"; v: string }
  | { k: "word"; v: string }
  | { k: "array"; items: Node[] }
  | { k: "call"; fn: string; args: Node[] }
  | { k: "unary"; arg: Node }
  | { k: "binary"; op: string; left: Node; right: Node };

const TOKEN =
  /\s*(?:(\d+(?:\.\d+)?)|("[^"]*"|“[^”]*”)|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|<=|>=|&&|\|\||[-+*/^<>(),[\]]))/y;

function tokenize(src: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < src.length) {
    if (/^\s*$/.test(src.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(src);
    if (!m) throw new Error(`unexpected character at ${at}: ${JSON.stringify(src.slice(at, at + 10))}`);
    out.push(m[0].trim());
  }
  return out;
}

/** Operator precedence, loosest first. */
const LEVELS = [["OR", "||"], ["AND", "&&"], ["==", "!=", "<=", ">=", "<", ">"], ["+", "-"], ["*", "/"], ["^"]];

function parse(src: string): Node {
  const t = tokenize(src);
  let i = 0;
  const peek = () => t[i];
  const eat = (want?: string) => {
    const tok = t[i++];
    if (tok === undefined) throw new Error("unexpected end of expression");
    if (want !== undefined && tok !== want) throw new Error(`expected ${want}, found ${tok}`);
    return tok;
  };
  const level = (n: number): Node => {
    if (n === LEVELS.length) return unary();
    let left = level(n + 1);
    while (peek() !== undefined && LEVELS[n].includes(peek()!)) {
      const op = eat();
      left = { k: "binary", op, left, right: level(n + 1) };
    }
    return left;
  };
  const unary = (): Node => (peek() === "-" ? (eat(), { k: "unary", arg: unary() }) : primary());
  const list = (close: string): Node[] => {
    const items: Node[] = [];
    if (peek() === close) return (eat(close), items);
    for (;;) {
      items.push(level(0));
      if (peek() === ",") eat(",");
      else return (eat(close), items);
    }
  };
  const primary = (): Node => {
    const tok = eat();
    if (tok === "(") {
      const inner = level(0);
      eat(")");
      return inner;
    }
    if (tok === "[") return { k: "array", items: list("]") };
    if (/^\d/.test(tok)) return { k: "num", v: Number(tok) };
    if (/^["“]/.test(tok)) return { k: "str", v: tok.slice(1, -1) };
    if (/^[a-z]/.test(tok)) return { k: "id", v: tok };
    if (/^[A-Z_]/.test(tok))
      return peek() === "(" ? (eat("("), { k: "call", fn: tok, args: list(")") }) : { k: "word", v: tok };
    throw new Error(`unexpected ${tok}`);
  };
  const root = level(0);
  if (i !== t.length) throw new Error(`unexpected ${t[i]} after the expression`);
  return root;
}

/** Signatures from the function table: argument types → result. */
const SIGNATURES: Record<string, Array<[MathType[], MathType]>> = {
  ...Object.fromEntries(
    ["ABS", "CEIL", "FLOOR", "LOG", "LOG10", "DIFF", "DIFF_TIME", "RATE", "RUNNING_SUM"].map((f) => [
      f,
      [
        [["TS"], "TS"],
        [["TS[]"], "TS[]"],
      ] as Array<[MathType[], MathType]>,
    ]),
  ),
  ...Object.fromEntries(
    ["AVG", "MAX", "MIN", "SUM", "STDDEV", "DATAPOINT_COUNT"].map((f) => [
      f,
      [
        [["TS"], "S"],
        [["TS[]"], "TS"],
      ] as Array<[MathType[], MathType]>,
    ]),
  ),
  FIRST: [[["TS[]"], "TS"]],
  LAST: [[["TS[]"], "TS"]],
  METRIC_COUNT: [[["TS[]"], "S"]],
  PERIOD: [[["TS"], "S"]],
  TIME_SERIES: [[["S"], "TS"]],
  REMOVE_EMPTY: [[["TS[]"], "TS[]"]],
  ANOMALY_DETECTION_BAND: [
    [["TS"], "TS[]"],
    [["TS", "S"], "TS[]"],
  ],
  ...Object.fromEntries(["MINUTE", "HOUR", "DAY", "DATE", "MONTH", "YEAR", "EPOCH"].map((f) => [f, [[["TS"], "TS"]]])),
};

/**
 * Checks one expression; returns its type when it has one, and every problem found (empty when AWS documents the
 * expression as valid for `ctx.use`).
 */
export function checkMetricMath(expression: string, ctx: MathContext): { type?: MathType; problems: string[] } {
  const problems: string[] = [];
  let root: Node;
  try {
    root = parse(expression);
  } catch (e) {
    return { problems: [`${JSON.stringify(expression)} does not parse: ${(e as Error).message}`] };
  }
  const bad = (msg: string): undefined => void problems.push(`${JSON.stringify(expression)}: ${msg}`);

  const typeOf = (n: Node): MathType | undefined => {
    switch (n.k) {
      case "num":
        return "S";
      case "str":
      case "word":
        return bad(`${n.v} is not a value here`);
      case "id":
        if (!(n.v in ctx.ids)) return bad(`no query has the id ${n.v} (ids: ${Object.keys(ctx.ids).join(", ")})`);
        return ctx.ids[n.v];
      case "unary":
        return typeOf(n.arg);
      case "array": {
        const types = n.items.map(typeOf);
        n.items.forEach((item, j) => {
          if (types[j] === "S")
            bad(`element ${j + 1} of an array is a scalar (${show(item)}); arrays hold time series (TS[])`);
        });
        return "TS[]";
      }
      case "binary":
        return binary(n.op, typeOf(n.left), typeOf(n.right));
      case "call":
        return call(n);
    }
  };

  const binary = (op: string, a?: MathType, b?: MathType): MathType | undefined => {
    if (!a || !b) return undefined;
    if (a === "TS[]" && b === "TS[]") return bad(`${op} between two arrays of time series is not documented`);
    if (["==", "!=", "<=", ">=", "<", ">", "AND", "OR", "&&", "||"].includes(op) && (a === "TS[]" || b === "TS[]")) {
      return bad(`comparison and logical operators take time series or scalars, not arrays`);
    }
    if (a === "TS[]" || b === "TS[]") return "TS[]";
    return a === "S" && b === "S" ? "S" : "TS";
  };

  const call = (n: Extract<Node, { k: "call" }>): MathType | undefined => {
    if ((ctx.use === "alarm" || ctx.use === "scaling") && NOT_FOR_ALARMS.includes(n.fn)) {
      bad(`AWS recommends not to use ${n.fn} in alarms (and target tracking runs on alarms)`);
    }
    if (n.fn === "IF") return ifType(n.args);
    if (n.fn === "FILL") return fillType(n.args);
    if (n.fn === "METRICS") {
      if (n.args.length > 1 || (n.args.length === 1 && n.args[0].k !== "str"))
        bad(`METRICS takes nothing or one string`);
      return "TS[]";
    }
    const sigs = SIGNATURES[n.fn];
    if (!sigs) return bad(`${n.fn} is not a metric math function this checker knows (see using-metric-math.html)`);
    const args = n.args.map(typeOf);
    if (args.some((a) => a === undefined)) return undefined;
    const sig = sigs.find(([params]) => params.length === args.length && params.every((p, j) => p === args[j]));
    if (!sig) {
      const want = sigs.map(([p]) => `(${p.join(", ")})`).join(" or ");
      return bad(`${n.fn}(${args.join(", ")}) is not documented; it takes ${want}`);
    }
    return sig[1];
  };

  // IF(condition, trueValue[, falseValue]): the condition a TS (or a comparison of one) or an S; the values S or
  // TS, at least one of condition and values a TS; the result is a single TS.
  const ifType = (args: Node[]): MathType | undefined => {
    if (args.length < 2 || args.length > 3) return bad(`IF takes 2 or 3 arguments, got ${args.length}`);
    const types = args.map(typeOf);
    if (types.some((t) => t === undefined)) return undefined;
    if (types.includes("TS[]")) return bad(`IF takes time series and scalars, not arrays`);
    if (types[0] === "S" && types[1] !== "TS") return bad(`IF with a scalar condition needs a time series to return`);
    return "TS";
  };

  const fillType = (args: Node[]): MathType | undefined => {
    if (args.length !== 2) return bad(`FILL takes 2 arguments, got ${args.length}`);
    const target = typeOf(args[0]);
    const filler = args[1].k === "word" && ["REPEAT", "LINEAR"].includes(args[1].v) ? "S" : typeOf(args[1]);
    if (!target || !filler) return undefined;
    if (target === "S" || filler === "TS[]") return bad(`FILL(${target}, ${filler}) is not documented`);
    if (target === "TS" && filler === "TS") return bad(`FILL(TS, TS) is not documented; FILL(TS[], TS) is`);
    return target;
  };

  const type = typeOf(root);
  if (type === "S") bad(`the result is a scalar; an expression must end in a time series or an array of them`);
  if (type === "TS[]" && ctx.use !== "graph")
    bad(`an ${ctx.use === "alarm" ? "alarm" : "scaling policy"} needs one time series, not an array`);
  return { type, problems };
}

function show(n: Node): string {
  switch (n.k) {
    case "num":
      return String(n.v);
    case "id":
    case "word":
      return n.v;
    case "str":
      return JSON.stringify(n.v);
    default:
      return n.k;
  }
}
