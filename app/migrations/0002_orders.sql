-- Orders belong to a shopper (the UUID kept in the shopper's session). Ids are UUIDs made by the database, so that
-- later steps can spread orders over several shards without colliding ids.
CREATE TABLE orders (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  shopper_id  uuid        NOT NULL,
  status      text        NOT NULL,
  total_cents bigint      NOT NULL CHECK (total_cents >= 0),
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- A shopper's orders, newest first.
CREATE INDEX orders_shopper_created ON orders (shopper_id, created_at DESC);

-- The lines of an order, with the price paid: later price changes do not rewrite history.
CREATE TABLE order_items (
  order_id         uuid    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  product_id       integer NOT NULL REFERENCES products (id),
  quantity         integer NOT NULL CHECK (quantity > 0),
  unit_price_cents integer NOT NULL CHECK (unit_price_cents >= 0),
  PRIMARY KEY (order_id, product_id)
);
