// Jest's test order: the longest files first, so that the two workers finish together instead of one of them
// running a long file alone at the end. Jest does this by itself from the durations it cached in earlier runs on
// this machine; a clean clone (CI) has none, and jest then orders by file size, which put the longest files
// (the deploy-twice simulations, the boot tests, the lint test) last. Files jest has no duration for take theirs
// from ESTIMATES: seconds each took in a clean-clone `bash .ci/run` (2 cores, cold graph cache). A stale estimate
// only costs some idle time; files without either still come after, by size.
const path = require("node:path");
const Sequencer = require(require.resolve("@jest/test-sequencer", { paths: [require.resolve("jest")] })).default;

const ESTIMATES = {
  "test/infra/deploy-twice-prod-domain.test.ts": 80,
  "test/infra/boot-systemd.test.ts": 44,
  "test/infra/lint.test.ts": 43,
  "test/infra/deploy-twice-prod.test.ts": 41,
  "test/infra/boot-scripts.test.ts": 28,
  "test/infra/deploy-twice-dev.test.ts": 27,
  "test/infra/stack-files.test.ts": 26,
  "test/app/e2e/step-09-sharding.test.ts": 24,
  "test/infra/policies.test.ts": 22,
  "test/app/e2e/step-11-multi-region.test.ts": 19,
  "test/app/e2e/step-07-stateless-web.test.ts": 17,
  "test/app/e2e/step-04-read-replicas.test.ts": 15,
  "test/infra/deploy-rules.test.ts": 12,
  "test/infra/plan.test.ts": 11,
  "test/app/cache-degraded.test.ts": 10,
  "test/app/e2e/step-01-single-server.test.ts": 9,
};

class SlowestFirst extends Sequencer {
  time(test) {
    const cached = super.time(test);
    if (cached !== undefined) return cached;
    const estimate = ESTIMATES[path.relative(path.resolve(__dirname, ".."), test.path).split(path.sep).join("/")];
    return estimate === undefined ? undefined : estimate * 1000;
  }
}

module.exports = SlowestFirst;
