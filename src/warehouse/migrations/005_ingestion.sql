-- Event ingestion bookkeeping (issue 5): dead letters and webhook replay tokens.
-- Unknown tracking numbers need no table: tracking_events.shipment_id stays NULL until the shipment appears.

-- Authentic but malformed events, kept with the reason so `shipcast replay dead-letters` can re-process them.
CREATE SEQUENCE ingest_dead_letters_seq;
CREATE TABLE ingest_dead_letters (
  dead_letter_id  BIGINT PRIMARY KEY DEFAULT nextval('ingest_dead_letters_seq'),
  source          VARCHAR NOT NULL,   -- webhook, aftership, easypost, shippo, mailgun, file, stream
  event_id        VARCHAR,            -- when the payload had one
  field           VARCHAR NOT NULL,   -- dotted path of the first offending field
  reason          VARCHAR NOT NULL,
  payload         VARCHAR NOT NULL,   -- the raw event JSON, as received
  payload_sha256  VARCHAR NOT NULL,   -- a retried delivery of the same bad payload is stored once
  received_at     TIMESTAMPTZ NOT NULL,
  replayed_at     TIMESTAMPTZ,        -- set once a replay accepted it
  replay_attempts INTEGER NOT NULL DEFAULT 0,
  UNIQUE (source, payload_sha256)
);

-- Signed-request tokens already seen (Mailgun's signature.token), so a captured request cannot be replayed.
CREATE TABLE webhook_replay_tokens (
  source    VARCHAR NOT NULL,
  token     VARCHAR NOT NULL,
  event_id  VARCHAR,                  -- the event the token first came with: a provider retry of it is a duplicate, not a replay
  seen_at   TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (source, token)
);
