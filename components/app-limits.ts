/**
 * The app's limits that the stack's checks count on, in one place: the app's configuration (app/src/config.ts) and
 * its worker (app/src/queue/order-consumer.ts) use them, and the configuration check (stacks/capacity-checks.ts)
 * holds them against the database's connections and the queue's visibility timeout. Plain constants without the
 * Pulumi SDK, so that the app bundles them without the SDK. The stack does not set `DB_POOL_MAX` in the processes'
 * environment, so what a process runs with is what is written here.
 */

/**
 * Most connections one pool opens (`DB_POOL_MAX`'s default). Every web process has one pool to the catalog's primary,
 * one to each replica it reads and, from step 9, one to each shard's writer and reader; every worker has one to the
 * primary and, from step 9, one to each shard.
 */
export const DB_POOL_MAX_DEFAULT = 10;

/** Most connections the data-migrations tool (move, backfill-order-shards) opens to one database. */
export const MIGRATION_POOL_MAX = 4;

/**
 * How long the worker waits for one order's job (its confirmation on the shard, and the delete of its message)
 * before it gives up waiting, logs the job as timed out and leaves the message to come back. The queue's
 * visibility timeout must be longer, or SQS hands the message to a second worker while the first still waits on it.
 */
export const WORKER_JOB_TIMEOUT_MS = 30_000;

/**
 * The longest an order should wait in the queue for a worker, seconds: the step-10 alarm `orders-waiting`
 * (components/monitoring.ts), and the worker fleet's "when to climb" signal (stacks/climb-signals.ts).
 */
export const ORDERS_WAITING_ALARM_SECONDS = 300;
