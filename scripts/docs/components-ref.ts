/**
 * docs/components.md, generated from the source of components/ with the TypeScript compiler API (syntax only, no
 * type checking): every ComponentResource with its type token, its doc comment, its args (type, default, doc) and
 * its public outputs, and the types and helpers the components export. A default is read from the arg's `@default`
 * tag and, where the constructor says `args.x ?? value`, checked against the code: a disagreement is printed in the
 * reference (and listed by `componentDefaultMismatches`) rather than hidden.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";
import { cell } from "./markers";

export interface ArgDoc {
  name: string;
  type: string;
  optional: boolean;
  doc: string;
  /** From `@default`. */
  default?: string;
  /** From `args.name ?? <expr>` in the constructor. */
  codeDefault?: string;
  example?: string;
}

export interface OutputDoc {
  name: string;
  type: string;
  doc: string;
}

export interface ComponentDoc {
  className: string;
  file: string;
  token: string;
  doc: string;
  argsType?: string;
  args: ArgDoc[];
  outputs: OutputDoc[];
  /** Exported interfaces of the file other than the args (shapes the args use). */
  types: Array<{ name: string; doc: string; members: ArgDoc[] }>;
}

export interface HelperDoc {
  name: string;
  file: string;
  kind: "function" | "const";
  doc: string;
}

const flat = (s: string) => s.replace(/\s+/g, " ").trim();

function jsDocOf(node: ts.Node): { text: string; tags: Record<string, string> } {
  const docs = (node as { jsDoc?: ts.JSDoc[] }).jsDoc ?? [];
  const last = docs[docs.length - 1];
  if (!last) return { text: "", tags: {} };
  const text = typeof last.comment === "string" ? last.comment : (ts.getTextOfJSDocComment(last.comment) ?? "");
  const tags: Record<string, string> = {};
  for (const t of last.tags ?? []) {
    const c = typeof t.comment === "string" ? t.comment : (ts.getTextOfJSDocComment(t.comment) ?? "");
    tags[t.tagName.text] = c.trim();
  }
  return { text: text.trim(), tags };
}

const exported = (n: ts.Node) =>
  ts.canHaveModifiers(n) && (ts.getModifiers(n) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);

function membersOf(decl: ts.InterfaceDeclaration | ts.TypeLiteralNode, sf: ts.SourceFile): ArgDoc[] {
  return decl.members.filter(ts.isPropertySignature).map((m) => {
    const { text, tags } = jsDocOf(m);
    return {
      name: m.name.getText(sf),
      type: m.type ? flat(m.type.getText(sf)) : "unknown",
      optional: m.questionToken !== undefined,
      doc: flat(text),
      default: tags.default !== undefined ? flat(tags.default) : undefined,
      example: tags.example !== undefined ? flat(tags.example) : undefined,
    };
  });
}

/** `args.foo ?? 20` and `args.foo ?? DEFAULT` in a class body, by arg name. */
function codeDefaults(node: ts.Node, sf: ts.SourceFile): Record<string, string> {
  const found: Record<string, string> = {};
  const visit = (n: ts.Node) => {
    if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken) {
      const left = n.left;
      if (ts.isPropertyAccessExpression(left) && ts.isIdentifier(left.expression) && left.expression.text === "args") {
        found[left.name.text] ??= flat(n.right.getText(sf));
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(node);
  return found;
}

/** `"t4g.small"` and `'t4g.small'` and `t4g.small` compare equal; so do `[]` and `[ ]`. */
const norm = (s: string) =>
  s
    .replace(/['"`]/g, "")
    .replace(/\s+/g, "")
    .replace(/\(.*\)$/, "");

/** Every component and helper of the files in `dir`. */
export function readComponents(dir: string): { components: ComponentDoc[]; helpers: HelperDoc[] } {
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".ts"))
    .sort();
  const components: ComponentDoc[] = [];
  const helpers: HelperDoc[] = [];
  const interfaces = new Map<string, { decl: ts.InterfaceDeclaration; sf: ts.SourceFile; file: string }>();
  const sources = files.map((f) => {
    const sf = ts.createSourceFile(f, fs.readFileSync(path.join(dir, f), "utf8"), ts.ScriptTarget.ES2022, true);
    for (const s of sf.statements)
      if (ts.isInterfaceDeclaration(s)) interfaces.set(s.name.text, { decl: s, sf, file: f });
    return { f, sf };
  });
  for (const { f, sf } of sources) {
    for (const s of sf.statements) {
      if (ts.isClassDeclaration(s) && s.name && exported(s)) {
        const heritage = s.heritageClauses?.flatMap((h) => h.types.map((t) => t.expression.getText(sf))) ?? [];
        if (!heritage.some((h) => h.endsWith("ComponentResource"))) continue;
        const ctor = s.members.find(ts.isConstructorDeclaration);
        let token = "";
        ctor?.body?.forEachChild(function find(n): void {
          if (
            !token &&
            ts.isCallExpression(n) &&
            n.expression.kind === ts.SyntaxKind.SuperKeyword &&
            n.arguments[0] &&
            ts.isStringLiteral(n.arguments[0])
          )
            token = n.arguments[0].text;
          else n.forEachChild(find);
        });
        const argsParam = ctor?.parameters[1];
        const argsType =
          argsParam?.type && ts.isTypeReferenceNode(argsParam.type) ? argsParam.type.typeName.getText(sf) : undefined;
        const argsDecl = argsType ? interfaces.get(argsType) : undefined;
        const defaults = ctor ? codeDefaults(ctor, sf) : {};
        const args = argsDecl
          ? membersOf(argsDecl.decl, argsDecl.sf).map((a) => ({ ...a, codeDefault: defaults[a.name] }))
          : [];
        const outputs: OutputDoc[] = s.members
          .filter(ts.isPropertyDeclaration)
          .filter((p) => {
            const mods = ts.getModifiers(p) ?? [];
            return (
              mods.some((m) => m.kind === ts.SyntaxKind.PublicKeyword) &&
              mods.some((m) => m.kind === ts.SyntaxKind.ReadonlyKeyword)
            );
          })
          .map((p) => ({
            name: p.name.getText(sf),
            type: p.type ? flat(p.type.getText(sf)) : "unknown",
            doc: flat(jsDocOf(p).text),
          }));
        const methods = s.members
          .filter(ts.isMethodDeclaration)
          .filter((m) => !(ts.getModifiers(m) ?? []).some((x) => x.kind === ts.SyntaxKind.PrivateKeyword))
          .map((m) => ({ name: `${m.name.getText(sf)}()`, type: "method", doc: flat(jsDocOf(m).text) }));
        const types = sf.statements
          .filter(
            (x): x is ts.InterfaceDeclaration =>
              ts.isInterfaceDeclaration(x) && exported(x) && x.name.text !== argsType,
          )
          .map((x) => ({ name: x.name.text, doc: flat(jsDocOf(x).text), members: membersOf(x, sf) }));
        components.push({
          className: s.name.text,
          file: f,
          token,
          doc: jsDocOf(s).text,
          argsType,
          args,
          outputs: [...outputs, ...methods],
          types,
        });
      } else if (ts.isFunctionDeclaration(s) && s.name && exported(s)) {
        helpers.push({ name: `${s.name.text}()`, file: f, kind: "function", doc: flat(jsDocOf(s).text) });
      } else if (ts.isVariableStatement(s) && exported(s)) {
        for (const d of s.declarationList.declarations)
          helpers.push({ name: d.name.getText(sf), file: f, kind: "const", doc: flat(jsDocOf(s).text) });
      }
    }
  }
  return { components, helpers };
}

/** Args whose `@default` tag and constructor default disagree (or that have one without the other). */
export function componentDefaultMismatches(components: ComponentDoc[]): string[] {
  const out: string[] = [];
  for (const c of components) {
    for (const a of c.args) {
      if (a.codeDefault === undefined) continue;
      if (a.default === undefined)
        out.push(`${c.className}.${a.name}: the code defaults to ${a.codeDefault} but the JSDoc has no @default`);
      else if (norm(a.default) !== norm(a.codeDefault) && !/^[A-Z_]+$/.test(a.codeDefault)) {
        out.push(`${c.className}.${a.name}: @default ${a.default} but the code defaults to ${a.codeDefault}`);
      }
    }
  }
  return out;
}

/** The first sentence of a doc comment. */
const firstSentence = (s: string) => flat(s).match(/^.*?[.:](?=\s|$)/)?.[0] ?? flat(s);

/**
 * The reference in Markdown. `firstStep` maps a component type token to the first step that creates it (from the
 * evaluated ladder), `linkBase` is the path from the docs file to the repository root.
 */
export function componentReference(dir: string, firstStep: Record<string, number> = {}, linkBase = ".."): string {
  const { components, helpers } = readComponents(dir);
  const byStep = [...components].sort(
    (a, b) => (firstStep[a.token] ?? 99) - (firstStep[b.token] ?? 99) || a.className.localeCompare(b.className),
  );
  const out: string[] = [];
  out.push("| component | type token | first at step | file |", "| --- | --- | ---: | --- |");
  for (const c of byStep)
    out.push(
      `| [\`${c.className}\`](#${c.className.toLowerCase()}) | \`${c.token}\` | ${firstStep[c.token] ?? "—"} | ` +
        `[\`components/${c.file}\`](${linkBase}/components/${c.file}) |`,
    );
  for (const c of byStep) {
    out.push(
      "",
      `## ${c.className}`,
      "",
      `\`${c.token}\` · [\`components/${c.file}\`](${linkBase}/components/${c.file})` +
        (firstStep[c.token] ? ` · from step ${firstStep[c.token]}` : ""),
      "",
    );
    out.push(c.doc.trim(), "");
    if (c.argsType) {
      out.push(
        `**Args** (\`${c.argsType}\`)`,
        "",
        "| arg | type | default | description |",
        "| --- | --- | --- | --- |",
      );
      for (const a of c.args) {
        let dflt =
          a.default !== undefined
            ? `\`${a.default}\``
            : a.optional
              ? a.codeDefault
                ? `\`${a.codeDefault}\` (code)`
                : "—"
              : "required";
        if (
          a.default !== undefined &&
          a.codeDefault !== undefined &&
          norm(a.default) !== norm(a.codeDefault) &&
          !/^[A-Z_]+$/.test(a.codeDefault)
        )
          dflt += ` ⚠ code: \`${a.codeDefault}\``;
        const doc = [a.doc, a.example ? `Example: \`${a.example}\`` : ""].filter(Boolean).join(" ");
        out.push(`| \`${a.name}${a.optional ? "?" : ""}\` | \`${cell(a.type)}\` | ${cell(dflt)} | ${cell(doc)} |`);
      }
      out.push("");
    }
    if (c.outputs.length > 0) {
      out.push("**Outputs and members**", "", "| name | type | description |", "| --- | --- | --- |");
      for (const o of c.outputs) out.push(`| \`${o.name}\` | \`${cell(o.type)}\` | ${cell(o.doc)} |`);
      out.push("");
    }
    for (const t of c.types) {
      out.push(`**\`${t.name}\`**${t.doc ? ` — ${t.doc}` : ""}`, "");
      if (t.members.length > 0) {
        out.push("| field | type | description |", "| --- | --- | --- |");
        for (const m of t.members)
          out.push(
            `| \`${m.name}${m.optional ? "?" : ""}\` | \`${cell(m.type)}\` | ` +
              `${cell([m.doc, m.default ? `Default \`${m.default}\`.` : ""].filter(Boolean).join(" "))} |`,
          );
        out.push("");
      }
    }
  }
  out.push("", "## Shared helpers", "", "| export | file | what it is |", "| --- | --- | --- |");
  for (const h of helpers)
    out.push(
      `| \`${h.name}\` | [\`${h.file}\`](${linkBase}/components/${h.file}) | ${cell(firstSentence(h.doc) || "—")} |`,
    );
  return out.join("\n");
}
