-- Step 8, orders through a queue. Checkout writes the order as 'pending' together with an outbox row in one
-- transaction; a relay sends outbox rows to SQS and marks them sent; the worker confirms the order and records the
-- notification it emitted. Orders placed before the queue keep their status 'placed'.

-- The product's name as it was bought, so that an order reads back without the catalog (on a shard, step 9).
ALTER TABLE order_items ADD COLUMN product_name text NOT NULL DEFAULT '';
UPDATE order_items AS i SET product_name = p.name FROM products AS p WHERE p.id = i.product_id;
ALTER TABLE order_items ALTER COLUMN product_name DROP DEFAULT;

ALTER TABLE orders ADD COLUMN confirmed_at timestamptz;

-- The admin's recent orders, newest first.
CREATE INDEX orders_created ON orders (created_at DESC, id DESC);

-- Messages to send to the orders queue, written in the transaction that makes them true. A row is marked sent only
-- after SQS accepted it, so a crash in between sends it again: at least once, never lost.
CREATE TABLE order_outbox (
  id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id   uuid        NOT NULL,
  body       text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at    timestamptz
);
CREATE INDEX order_outbox_unsent ON order_outbox (id) WHERE sent_at IS NULL;

-- What the worker did about an order, once each: the unique key makes a redelivered message a no-op.
CREATE TABLE order_events (
  order_id   uuid        NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  kind       text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (order_id, kind)
);
