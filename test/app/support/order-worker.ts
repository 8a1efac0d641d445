/** A worker for a test: `startWorker` in this process, against a test database and the test's queue. */
import type { SQSClient } from "@aws-sdk/client-sqs";
import { loadWorkerConfig } from "../../../app/src/config";
import { type RunningWorker, startWorker } from "../../../app/src/start-worker";
import type { OrderShards } from "../../../app/src/shards/order-shards";
import { testLogger } from "./test-app";

/** Starts a worker on `databaseUrl` consuming `queueUrl` through `sqs`; `env` adds or overrides variables. */
export function startTestWorker(options: {
  databaseUrl: string;
  queueUrl: string;
  sqs: SQSClient;
  shards?: OrderShards;
  env?: Record<string, string>;
}): Promise<RunningWorker> {
  const config = loadWorkerConfig({
    DATABASE_URL: options.databaseUrl,
    ORDER_QUEUE_URL: options.queueUrl,
    HOST: "127.0.0.1",
    LOG_LEVEL: "silent",
    WORKER_WAIT_SECONDS: "1",
    ...options.env,
  });
  return startWorker(config, testLogger(), { sqs: options.sqs, shards: options.shards });
}
