/**
 * The lint configuration (eslint.config.mjs) flags what `npm test` relies on it to flag: a Pulumi Output in an
 * untagged template literal (typed, through @pulumi/eslint-plugin, with the real @pulumi/pulumi types) and a line
 * over 120 characters. ESLint runs in a child process: it loads its flat config with `import()`, which jest's
 * CommonJS runtime refuses.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";

const root = path.resolve(__dirname, "../..");

// Lints one file that is not on disk, with the nearest tsconfig's program (lint-fixture/tsconfig.json, which names
// only it) instead of the whole code base's (the root tsconfig.json's, which eslint.config.mjs gives every file).
const LINT_TEXT = `
import { ESLint } from "eslint";
const [root, code] = process.argv.slice(1);
const file = "test/infra/lint-fixture/fixture.ts";
const eslint = new ESLint({
  cwd: root,
  overrideConfig: {
    files: [file],
    languageOptions: { parserOptions: { project: null, projectService: true } },
  },
});
const [result] = await eslint.lintText(code, { filePath: root + "/" + file });
process.stdout.write(JSON.stringify(result.messages.map((m) => ({ rule: m.ruleId, line: m.line }))));
`;

function lint(code: string): Array<{ rule: string | null; line: number }> {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", LINT_TEXT, root, code], {
    cwd: root,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`eslint failed (exit ${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

test("flags an Output in an untagged template literal and a line over 120 characters, not pulumi.interpolate", () => {
  const messages = lint(
    [
      'import * as pulumi from "@pulumi/pulumi";',
      'export const name = pulumi.output("shop");',
      "export const wrong = `site-${name}`;",
      "export const right = pulumi.interpolate`site-${name}`;",
      `export const long = "${"x".repeat(120)}";`,
      "",
    ].join("\n"),
  );
  expect(messages).toEqual([
    { rule: "@pulumi/no-output-in-template-literal", line: 3 },
    { rule: "max-len", line: 5 },
  ]);
}, 120_000);
