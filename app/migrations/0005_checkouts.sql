-- One order per cart (issue 14). Each cart the session holds has an id and a version (a new version at every change,
-- a new id after each checkout); checkout claims (shopper, cart id, cart version) here, on the catalog database,
-- in the transaction that takes the stock. A second checkout of the same cart, concurrent (a double click, ten
-- tabs) or later (a retry after a lost response), finds the claim and gets the first order back instead of taking
-- the stock again. The claim lives with the stock at every step: unsharded in the order's own transaction, sharded
-- (step 9) in the reservation's, and it is deleted with a released reservation (no order was ever written, so the
-- cart may be checked out afresh). Unique in the database, so it holds across every web process.
CREATE TABLE checkouts (
  shopper_id   uuid        NOT NULL,
  cart_id      uuid        NOT NULL,
  cart_version integer     NOT NULL CHECK (cart_version > 0),
  order_id     uuid        NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (shopper_id, cart_id, cart_version)
);
