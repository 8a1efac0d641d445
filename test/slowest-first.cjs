// Jest's test order: the longest files first, so that the workers finish together instead of one of them running a
// long file alone at the end. Jest does this by itself from the durations it cached in earlier runs on
// this machine; a clean clone (CI) has none, and jest then orders by file size, which put the longest files
// (the deploy-twice simulations, the boot tests, the lint test) last. Files jest has no duration for take theirs
// from ESTIMATES: seconds each file of 9 s or more took in a clean clone's jest run (3 workers on 2 cores, cold graph
// cache, 2026-12-03). A stale estimate only costs some idle time; files without either still come after, by size.
const path = require("node:path");
const Sequencer = require(require.resolve("@jest/test-sequencer", { paths: [require.resolve("jest")] })).default;

const ESTIMATES = {
  "test/app/e2e/capacity-model.test.ts": 70,
  "test/infra/deploy-twice-prod-domain.test.ts": 56,
  "test/app/e2e/climb-06-08.test.ts": 53,
  "test/infra/boot-systemd.test.ts": 48,
  "test/infra/boot-scripts.test.ts": 45,
  "test/app/e2e/climb-10-11.test.ts": 43,
  "test/infra/policies.test.ts": 40,
  "test/app/e2e/load-profile.test.ts": 38,
  "test/infra/stack-files.test.ts": 36,
  "test/infra/deploy-twice-dev.test.ts": 33,
  "test/app/e2e/step-09-sharding.test.ts": 32,
  "test/infra/deploy-twice-prod.test.ts": 30,
  "test/app/e2e/climb-06-07.test.ts": 28,
  "test/app/e2e/step-11-multi-region.test.ts": 28,
  "test/app/data-migrations-move.test.ts": 25,
  "test/app/build.test.ts": 23,
  "test/app/e2e/step-05-cache-browser.test.ts": 23,
  "test/app/e2e/step-07-stateless-web.test.ts": 23,
  "test/app/redis-reconnect.test.ts": 21,
  "test/infra/plan.test.ts": 21,
  "test/app/cache-degraded.test.ts": 18,
  "test/infra/app-environment.test.ts": 16,
  "test/infra/shard-keys.test.ts": 15,
  "test/app/climb-runner.test.ts": 14,
  "test/app/e2e/console-step-04.test.ts": 14,
  "test/infra/web-acl.test.ts": 14,
  "test/app/data-migrations-backfill.test.ts": 13,
  "test/app/e2e/climb-01-03.test.ts": 12,
  "test/app/e2e/step-01-single-server.test.ts": 12,
  "test/app/queue.test.ts": 12,
  "test/app/secondary-region.test.ts": 12,
  "test/infra/step09-11.test.ts": 12,
  "test/app/checkout-load.test.ts": 11,
  "test/app/e2e/step-02-moved-from-step-1.test.ts": 11,
  "test/app/e2e/step-04-read-replicas.test.ts": 11,
  "test/infra/databases-on-aws.test.ts": 11,
  "test/app/e2e/step-04-password-rotation.test.ts": 10,
  "test/app/shards.test.ts": 10,
  "test/infra/cli-run.test.ts": 10,
  "test/app/worker.test.ts": 9,
  "test/infra/deploy-rules.test.ts": 9,
  "test/infra/docs.test.ts": 9,
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
module.exports.ESTIMATES = ESTIMATES;
