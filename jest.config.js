// Two projects: `infra` evaluates the Pulumi program under mocks; `app` runs the shop against real servers.
// Both are transpile-only (@swc/jest): types are checked once, by `npm run typecheck`, not per test file.
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
  // Jest's default on 2 cores is one worker (cores - 1). Two keep both cores busy: the app tests wait on their
  // servers much of the time, and the infra files that evaluate graphs are CPU-bound, so they overlap well.
  maxWorkers: 2,
  // Longest files first, also on a clean clone (test/slowest-first.cjs).
  testSequencer: "<rootDir>/test/slowest-first.cjs",
};
