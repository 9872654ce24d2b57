-- Transactional email: the outbox (exactly-once delivery state per message), and what customers do
-- through signed links. email_messages (001) stays the canonical record of each message; this table
-- holds the queue state that only the sender needs.

CREATE TABLE email_outbox (
  message_id        VARCHAR PRIMARY KEY,        -- = email_messages.message_id
  idempotency_key   VARCHAR NOT NULL UNIQUE,    -- shipment|kind|milestone[|day], or shipment|kind|manual
  shipment_id       VARCHAR NOT NULL,
  kind              VARCHAR NOT NULL,
  stream            VARCHAR NOT NULL,           -- transactional | promotional
  locale            VARCHAR NOT NULL,
  to_address        VARCHAR,                    -- lower-cased; kept for suppression checks at send time
  trigger           VARCHAR NOT NULL,           -- the milestone that caused it, or 'manual'
  offer             JSON,                       -- the offer that made the message promotional, if any
  status            VARCHAR NOT NULL,           -- queued, sending, sent, failed, suppressed, refused
  attempts          INTEGER NOT NULL DEFAULT 0,
  next_attempt_at   TIMESTAMPTZ NOT NULL,       -- quiet hours and retry backoff push this forward
  claimed_at        TIMESTAMPTZ,                -- when the worker took it; a row still "sending" at start-up was interrupted
  last_error        VARCHAR,                    -- reason of the last failure / refusal
  eta_p10           TIMESTAMPTZ,                -- the window rendered at send time (live-ETA fallback)
  eta_p50           TIMESTAMPTZ,
  eta_p90           TIMESTAMPTZ,
  created_at        TIMESTAMPTZ NOT NULL,
  updated_at        TIMESTAMPTZ NOT NULL
);
-- No index on (status, next_attempt_at): DuckDB rewrites indexed columns on UPDATE as delete+insert,
-- and a columnar scan of the outbox is cheap.

-- Delivery-day choices made on the reschedule landing page.
CREATE TABLE email_reschedule_requests (
  message_id     VARCHAR NOT NULL,
  shipment_id    VARCHAR NOT NULL,
  requested_day  DATE NOT NULL,
  created_at     TIMESTAMPTZ NOT NULL
);
