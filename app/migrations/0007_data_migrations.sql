-- Data migrations that have finished (app/src/data-migrations/): one row each, written in the transaction that
-- verified the copy, with the migration's report (tables, rows, checksums). Its presence is what the app reads:
-- until 'backfill-order-shards' is here, a sharded (step 9) app reads a shopper's history from their shard and from
-- this database, and its workers confirm the orders still kept here, here.
CREATE TABLE data_migrations (
  name    text        PRIMARY KEY,
  done_at timestamptz NOT NULL DEFAULT now(),
  report  jsonb       NOT NULL
);
