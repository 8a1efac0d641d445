// eslint (flat config), run by `npm run lint` and by `npm test` (scripts/check.mjs):
// - @eslint/js and typescript-eslint recommended on every TypeScript and JavaScript file;
// - @pulumi/eslint-plugin's two rules (an Output or OutputInstance in an untagged template literal renders as a
//   warning text, not its value; pulumi.interpolate is the fix) on every TypeScript file, with type information;
// - one line-length rule at prettier's printWidth (prettier wraps code but never strings, comments or templates).
import js from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import { defineConfig, globalIgnores, includeIgnoreFile } from "eslint/config";
import { fileURLToPath } from "node:url";
import tseslint from "typescript-eslint";

/** The Node globals the scripts use (the `globals` package is not a dependency, and the list is short). */
const node = Object.fromEntries(
  [
    "AbortController",
    "Buffer",
    "URL",
    "URLSearchParams",
    "clearInterval",
    "clearTimeout",
    "console",
    "fetch",
    "performance",
    "process",
    "queueMicrotask",
    "setImmediate",
    "setInterval",
    "setTimeout",
    "structuredClone",
  ].map((name) => [name, "readonly"]),
);
const commonjs = {
  require: "readonly",
  module: "writable",
  exports: "writable",
  __dirname: "readonly",
  __filename: "readonly",
};
/** The storefront's one script (app/static/app.js) runs in the browser. */
const browser = Object.fromEntries(
  ["URLSearchParams", "console", "document", "fetch", "history", "location", "window"].map((n) => [n, "readonly"]),
);

export default defineConfig(
  // What git ignores (prettier reads .gitignore too), and what is generated or vendored: other packages, tsc's
  // outDir, the app's release, local mode's data, coverage.
  includeIgnoreFile(fileURLToPath(new URL(".gitignore", import.meta.url))),
  globalIgnores(["**/node_modules/", "dist/", "bin/", ".local/", "coverage/"]),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    // Type information for the Pulumi rules, from one program: tsconfig.json's, which holds every TypeScript file,
    // the policy pack's too (tsc --noEmit checks them there). The pack's own tsconfig is for `pulumi policy`; with
    // `projectService`, each file's nearest tsconfig, eslint built a second program for the pack's few files: 33.5 s
    // of CPU for `eslint .` on a clean clone against 26 s with the one program (2 cores, 2026-12-02). Building the
    // program is most of the cost, not the rules, so every TypeScript file is typed.
    files: ["**/*.ts"],
    languageOptions: {
      parserOptions: { project: "./tsconfig.json", tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "@pulumi": pulumi },
    rules: {
      "@pulumi/no-output-in-template-literal": "error",
      "@pulumi/no-output-instance-in-template-literal": "error",
    },
  },
  { files: ["**/*.mjs"], languageOptions: { sourceType: "module", globals: node } },
  {
    files: ["**/*.cjs", "jest.config.js"],
    languageOptions: { sourceType: "commonjs", globals: { ...node, ...commonjs } },
    // CommonJS has no other way to load a module.
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // Synchronous loads at the moment they are needed, which `import` cannot express: the SDK's runtime internals
    // after the mocks are set (lib/graph/harness.ts), a provider package inside a program that the harness runs under
    // mocks (deploy-rules.test.ts; the conventions import the program after setMocks), a fresh module registry in
    // jest.isolateModules (fake-build.test.ts), the policy SDK's proxy once the policies run (policy-runner.ts).
    // served-pack.ts loads the SDK's generated gRPC and protobuf modules with require and uses them untyped (they
    // do have declarations: moving it to typed imports is left to do).
    files: [
      "lib/graph/harness.ts",
      "test/infra/deploy-rules.test.ts",
      "test/infra/fake-build.test.ts",
      "test/infra/policy-runner.ts",
      "test/infra/served-pack.ts",
    ],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    // Engine data and JSON documents, whose shape this code checks at run time: the mock harness's registrations
    // and graph queries (lib/graph), the AWS document validators (lib/aws-documents), the plan's graph readers
    // (scripts/plan) and the tests' assertions on recorded inputs, HTTP bodies and log records (test). `any` there
    // says "untyped JSON"; the typed code (stacks, components, policies, app, lib/servers, the other scripts) keeps
    // the rule.
    files: ["lib/graph/**", "lib/aws-documents/**", "scripts/plan/**", "test/**"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    // The name rules AWS documents exclude control characters; these patterns say so on purpose.
    files: ["test/infra/deploy-rules.ts"],
    rules: { "no-control-regex": "off" },
  },
  { files: ["app/static/**/*.js"], languageOptions: { sourceType: "script", globals: browser } },
  // The ladder console's page script (scripts/local/console/) runs in the browser too.
  {
    files: ["scripts/local/console/page/**/*.js"],
    languageOptions: { sourceType: "script", globals: { ...browser, Node: "readonly", setTimeout: "readonly" } },
  },
  {
    rules: {
      // `const { omitted: _omitted, ...rest } = o` is how the code leaves a property out of a copy.
      "@typescript-eslint/no-unused-vars": ["error", { ignoreRestSiblings: true }],
      // Prettier's printWidth. `max-len` is deprecated in core (kept until eslint 11; @stylistic/max-len takes the
      // same options). A comment line that holds a URL is exempt: a link cannot be wrapped and stay a link. A URL
      // in code or in a string is not: the string can be split.
      "max-len": ["error", { code: 120, ignorePattern: String.raw`^\s*(//|/?\*).*https?://` }],
    },
  },
);
