-- An order shard (step 9): the orders of the shoppers whose buckets the shard map gives this shard. Products and
-- stock stay on the catalog database, so order lines keep the product's id, name and price as bought, with no
-- foreign key to a table that lives elsewhere.
CREATE TABLE orders (
  id           uuid        PRIMARY KEY,
  shopper_id   uuid        NOT NULL,
  -- 'placed' (no queue), 'pending' -> 'confirmed' (queue), or 'void': the id was claimed by a checkout's
  -- compensation after a failed write, so that write can never land later (see app/src/orders/reservations.ts).
  status       text        NOT NULL,
  total_cents  bigint      NOT NULL CHECK (total_cents >= 0),
  created_at   timestamptz NOT NULL DEFAULT now(),
  confirmed_at timestamptz
);
CREATE INDEX orders_shopper_created ON orders (shopper_id, created_at DESC);
CREATE INDEX orders_created ON orders (created_at DESC, id DESC);

CREATE TABLE order_items (
  order_id         uuid    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  product_id       integer NOT NULL,
  product_name     text    NOT NULL,
  quantity         integer NOT NULL CHECK (quantity > 0),
  unit_price_cents integer NOT NULL CHECK (unit_price_cents >= 0),
  PRIMARY KEY (order_id, product_id)
);

CREATE TABLE order_outbox (
  id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id   uuid        NOT NULL,
  body       text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at    timestamptz
);
CREATE INDEX order_outbox_unsent ON order_outbox (id) WHERE sent_at IS NULL;

CREATE TABLE order_events (
  order_id   uuid        NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  kind       text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (order_id, kind)
);
