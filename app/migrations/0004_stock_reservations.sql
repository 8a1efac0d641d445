-- Step 9, sharded checkout. Stock lives here, on the catalog database; orders live on a shard. Checkout reserves
-- stock here (decrement + one row below, in one transaction), writes the order on the shopper's shard, then marks
-- the reservation committed. If the shard write fails the reservation is released (the stock given back); a
-- reservation left 'held' by a crash is settled later by the worker, which asks the shard (see
-- app/src/orders/reservations.ts).
CREATE TABLE stock_reservations (
  order_id    uuid        PRIMARY KEY,
  shopper_id  uuid        NOT NULL,
  shard       text        NOT NULL,
  -- [{ "productId": 1, "quantity": 2 }, ...]
  lines       jsonb       NOT NULL,
  state       text        NOT NULL DEFAULT 'held' CHECK (state IN ('held', 'committed', 'released')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  resolved_at timestamptz
);
CREATE INDEX stock_reservations_held ON stock_reservations (created_at) WHERE state = 'held';
