-- The catalog. Prices are integer cents (no floating point in money); stock can never go below zero, which is the
-- last line of defence against overselling should the checkout's row locks ever be bypassed.
CREATE TABLE products (
  id          integer     GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sku         text        NOT NULL UNIQUE,
  name        text        NOT NULL,
  description text        NOT NULL DEFAULT '',
  category    text        NOT NULL,
  price_cents integer     NOT NULL CHECK (price_cents >= 0),
  stock       integer     NOT NULL CHECK (stock >= 0),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Keyset pagination within a category: WHERE category = $1 AND id > $2 ORDER BY id.
CREATE INDEX products_category_id ON products (category, id);
