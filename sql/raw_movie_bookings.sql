-- The source table the pipeline captures (docs/contract.md, "Capture from PostgreSQL").
-- `cdc stack up --source postgres` runs this in the `bookings` database; run it yourself to try
-- the capture on a database of your own. Money is exact: numeric, never a float.
CREATE TABLE IF NOT EXISTS raw_movie_bookings (
  booking_id   text PRIMARY KEY,
  customer_id  text,
  movie_id     text,
  booking_date timestamptz NOT NULL,
  status       text NOT NULL,
  ticket_count integer NOT NULL,
  ticket_price numeric(10, 2) NOT NULL,
  total_amount numeric(14, 2) GENERATED ALWAYS AS (ticket_count * ticket_price) STORED,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Updates and deletes carry the whole row before the change (the contract's `before` image).
ALTER TABLE raw_movie_bookings REPLICA IDENTITY FULL;
