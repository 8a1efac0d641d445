// Two projects: `infra` evaluates the Pulumi program under mocks; `app` runs the shop against real servers.
// Both are transpile-only (@swc/jest): types are checked once, by `npm run typecheck`, not per test file.
const { availableParallelism } = require("node:os");

const transform = { "^.+\\.(t|j)sx?$": ["@swc/jest", { jsc: { target: "es2022" } }] };

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: "infra",
      testEnvironment: "node",
      // The Pulumi runtime keeps its state on globals by design; Jest's soft cleanup would only warn about them.
      testEnvironmentOptions: { globalsCleanup: "off" },
      transform,
      testMatch: ["<rootDir>/test/infra/**/*.test.ts"],
    },
    {
      displayName: "app",
      testEnvironment: "node",
      transform,
      testMatch: ["<rootDir>/test/app/**/*.test.ts"],
      globalSetup: "<rootDir>/test/app/support/global-setup.ts",
      globalTeardown: "<rootDir>/test/app/support/global-teardown.ts",
    },
  ],
  testTimeout: 60000,
  // One worker more than the cores (Jest's default is one fewer): the app tests wait on their servers much of the
  // time, so a spare worker keeps the cores busy. A clean clone's `npm test` on 2 cores: 441 s with 2 workers, 372 s
  // with 3, 393 s with 4 (one run each, 2026-12-02).
  maxWorkers: availableParallelism() + 1,
  // npm test starts jest with `node --max-semi-space-size=64` (package.json), which jest passes on to its workers (and
  // nothing else: the servers the tests start get no such flag). Evaluating Pulumi graphs and serving requests
  // allocate many short-lived objects; with V8's default young generation, a graph evaluation spent about a quarter
  // of its CPU in the garbage collector. Measured, one after the other on 2 cores: the infra tests on an empty graph
  // cache 172 → 157 and 191 → 163 s of CPU; the app tests 390 → 354 s (2026-12-03).
  // Longest files first, also on a clean clone (test/slowest-first.cjs).
  testSequencer: "<rootDir>/test/slowest-first.cjs",
};
