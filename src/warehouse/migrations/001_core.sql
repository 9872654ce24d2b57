-- shipcast canonical schema, version 1. This is the public data contract; see docs/DATA_CONTRACT.md.
-- Released migrations are never edited: add a new NNN_*.sql file instead.

CREATE TABLE tracking_statuses (
  status            VARCHAR PRIMARY KEY,   -- normalized lower_snake status
  description       VARCHAR NOT NULL,
  is_terminal       BOOLEAN NOT NULL,
  progress_rank     INTEGER NOT NULL,      -- coarse order of the happy path, for "never move backwards" checks
  aftership_tag     VARCHAR NOT NULL,      -- closest AfterShip tag
  karrio_status     VARCHAR NOT NULL       -- closest Karrio TrackerStatus
);

INSERT INTO tracking_statuses VALUES
  ('pending',              'Label or tracking number exists; carrier has no information yet', false, 0, 'Pending',        'pending'),
  ('info_received',        'Carrier received shipment information, parcel not yet handed over', false, 1, 'InfoReceived',   'pending'),
  ('in_transit',           'Carrier has the parcel and it is moving through the network',     false, 2, 'InTransit',      'in_transit'),
  ('delivery_delayed',     'Carrier reports a delay (weather, customs, capacity)',            false, 2, 'InTransit',      'delivery_delayed'),
  ('out_for_delivery',     'On the vehicle for final delivery today',                           false, 3, 'OutForDelivery', 'out_for_delivery'),
  ('failed_attempt',       'Delivery was attempted and failed; carrier will retry or hold',   false, 3, 'AttemptFail',    'delivery_failed'),
  ('available_for_pickup', 'Waiting at a pickup point or locker for the recipient',           false, 3, 'AvailableForPickup', 'ready_for_pickup'),
  ('exception',            'Held, damaged, lost, refused or otherwise off the happy path',    false, 2, 'Exception',      'on_hold'),
  ('return_to_sender',     'Being returned to the shipper',                                    false, 4, 'Exception',      'return_to_sender'),
  ('delivered',            'Delivered to the recipient or their agent',                        true,  5, 'Delivered',      'delivered'),
  ('expired',              'No carrier update for too long; tracking stopped',                 true,  5, 'Expired',        'unknown');

CREATE TABLE customers (
  customer_id                     VARCHAR PRIMARY KEY,
  external_id                     VARCHAR,               -- e.g. Olist customer_unique_id
  email                           VARCHAR,
  first_name                      VARCHAR,
  locale                          VARCHAR NOT NULL DEFAULT 'en',   -- BCP-47, e.g. en, pt-BR
  time_zone                       VARCHAR NOT NULL DEFAULT 'UTC',  -- IANA zone
  postal_prefix                   VARCHAR,
  city                            VARCHAR,
  region                          VARCHAR,
  country                         VARCHAR,               -- ISO-3166 alpha-2
  consent_email_transactional     BOOLEAN NOT NULL DEFAULT true,
  consent_email_promotional       BOOLEAN NOT NULL DEFAULT false,
  consent_sms_transactional       BOOLEAN NOT NULL DEFAULT false,
  consent_sms_promotional         BOOLEAN NOT NULL DEFAULT false,
  consent_updated_at              TIMESTAMPTZ,
  created_at                      TIMESTAMPTZ
);

CREATE TABLE orders (
  order_id          VARCHAR PRIMARY KEY,
  customer_id       VARCHAR NOT NULL,
  status            VARCHAR NOT NULL,      -- created, approved, invoiced, processing, shipped, delivered, canceled, unavailable
  channel           VARCHAR,               -- web, app, marketplace
  currency          VARCHAR NOT NULL DEFAULT 'USD',
  subtotal          DOUBLE,
  discount          DOUBLE,
  shipping_charged  DOUBLE,                -- what the customer paid for shipping
  total             DOUBLE,
  purchased_at      TIMESTAMPTZ NOT NULL,
  approved_at       TIMESTAMPTZ
);

CREATE TABLE order_items (
  order_id          VARCHAR NOT NULL,
  line_no           INTEGER NOT NULL,
  product_id        VARCHAR,
  seller_id         VARCHAR,
  category          VARCHAR,
  quantity          INTEGER NOT NULL DEFAULT 1,
  unit_price        DOUBLE,
  discount          DOUBLE,
  freight_value     DOUBLE,                -- freight allocated to this line (Olist freight_value)
  weight_g          DOUBLE,
  shipping_limit_at TIMESTAMPTZ,           -- seller's hand-off deadline
  PRIMARY KEY (order_id, line_no)
);

CREATE TABLE shipments (
  shipment_id          VARCHAR PRIMARY KEY,
  order_id             VARCHAR NOT NULL,
  tracking_number      VARCHAR NOT NULL UNIQUE,
  carrier              VARCHAR NOT NULL,
  service_level        VARCHAR NOT NULL,   -- e.g. ground, express, overnight, standard
  is_guaranteed        BOOLEAN NOT NULL DEFAULT false,  -- money-back guaranteed service
  origin_postal_prefix VARCHAR,
  origin_city          VARCHAR,
  origin_region        VARCHAR,
  origin_country       VARCHAR,
  origin_lat           DOUBLE,
  origin_lng           DOUBLE,
  dest_postal_prefix   VARCHAR,
  dest_city            VARCHAR,
  dest_region          VARCHAR,
  dest_country         VARCHAR,
  dest_lat             DOUBLE,
  dest_lng             DOUBLE,
  weight_g             DOUBLE,
  length_cm            DOUBLE,
  width_cm             DOUBLE,
  height_cm            DOUBLE,
  freight_cost         DOUBLE,             -- what the merchant pays the carrier (expected)
  currency             VARCHAR NOT NULL DEFAULT 'USD',
  label_created_at     TIMESTAMPTZ,
  shipped_at           TIMESTAMPTZ,        -- carrier hand-off
  promised_at          TIMESTAMPTZ,        -- the promise shown to the customer
  delivered_at         TIMESTAMPTZ,
  status               VARCHAR NOT NULL DEFAULT 'pending',  -- tracking_statuses.status of the latest event by event time
  status_at            TIMESTAMPTZ,        -- occurred_at of that event
  updated_at           TIMESTAMPTZ
);
CREATE INDEX shipments_order_idx ON shipments(order_id);

CREATE TABLE tracking_events (
  source               VARCHAR NOT NULL,   -- generator, webhook, aftership, easypost, shippo, olist, file
  event_id             VARCHAR NOT NULL,   -- unique within source
  tracking_number      VARCHAR NOT NULL,
  shipment_id          VARCHAR,            -- NULL until the tracking number is known
  carrier              VARCHAR,
  status               VARCHAR NOT NULL,   -- tracking_statuses.status
  carrier_status_code  VARCHAR,            -- the carrier's raw code
  description          VARCHAR,
  city                 VARCHAR,
  region               VARCHAR,
  country              VARCHAR,
  postal_code          VARCHAR,
  lat                  DOUBLE,
  lng                  DOUBLE,
  occurred_at          TIMESTAMPTZ NOT NULL,   -- when it happened (carrier clock)
  received_at          TIMESTAMPTZ NOT NULL,   -- when shipcast stored it
  PRIMARY KEY (source, event_id)
);
CREATE INDEX tracking_events_tn_idx ON tracking_events(tracking_number);

CREATE TABLE freight_invoices (
  invoice_id           VARCHAR PRIMARY KEY,
  invoice_number       VARCHAR NOT NULL,   -- the carrier's number; duplicates are a billing error
  carrier              VARCHAR NOT NULL,
  invoice_date         DATE NOT NULL,
  shipment_id          VARCHAR,
  tracking_number      VARCHAR,
  service_level        VARCHAR,
  zone                 INTEGER,
  billed_weight_kg     DOUBLE,
  actual_weight_kg     DOUBLE,
  total_amount         DOUBLE NOT NULL,    -- sum of charge lines
  contracted_amount    DOUBLE,             -- what the contract / quote says it should cost
  currency             VARCHAR NOT NULL DEFAULT 'USD'
);
CREATE INDEX freight_invoices_shipment_idx ON freight_invoices(shipment_id);

CREATE TABLE freight_invoice_charges (
  invoice_id    VARCHAR NOT NULL,
  line_no       INTEGER NOT NULL,
  charge_type   VARCHAR NOT NULL,   -- base, fuel, residential, delivery_area, signature, saturday, address_correction, oversize, customs_duty, guaranteed_refund
  amount        DOUBLE NOT NULL,
  PRIMARY KEY (invoice_id, line_no)
);

CREATE TABLE returns (
  return_id               VARCHAR PRIMARY KEY,
  order_id                VARCHAR NOT NULL,
  shipment_id             VARCHAR,
  customer_id             VARCHAR,
  reason                  VARCHAR,     -- damaged, wrong_item, late, changed_mind, size_fit, other
  status                  VARCHAR NOT NULL,   -- requested, label_sent, in_transit, received, refunded, rejected
  return_tracking_number  VARCHAR,
  requested_at            TIMESTAMPTZ NOT NULL,
  received_at             TIMESTAMPTZ,
  refunded_at             TIMESTAMPTZ,
  refund_amount           DOUBLE
);

CREATE TABLE email_messages (
  message_id          VARCHAR PRIMARY KEY,
  customer_id         VARCHAR,
  order_id            VARCHAR,
  shipment_id         VARCHAR,
  kind                VARCHAR NOT NULL,   -- shipped, delay, out_for_delivery, delivered, failed_attempt, return_label, return_received, refund_issued, promo
  stream              VARCHAR NOT NULL,   -- transactional | promotional
  locale              VARCHAR,
  subject             VARCHAR,
  provider            VARCHAR,            -- outbox, mailgun, history
  provider_message_id VARCHAR,
  model_version       VARCHAR,            -- ETA model used to personalize it
  status              VARCHAR NOT NULL,   -- queued, sent, failed, suppressed
  created_at          TIMESTAMPTZ NOT NULL,
  sent_at             TIMESTAMPTZ
);

CREATE TABLE email_events (
  source              VARCHAR NOT NULL,   -- mailgun, history
  event_id            VARCHAR NOT NULL,
  message_id          VARCHAR,
  provider_message_id VARCHAR,
  event               VARCHAR NOT NULL,   -- accepted, delivered, failed, opened, clicked, unsubscribed, complained
  severity            VARCHAR,            -- permanent | temporary, for failed
  reason              VARCHAR,
  url                 VARCHAR,            -- clicked link
  occurred_at         TIMESTAMPTZ NOT NULL,
  received_at         TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (source, event_id)
);

CREATE TABLE csat_responses (
  response_id    VARCHAR PRIMARY KEY,
  order_id       VARCHAR NOT NULL,
  shipment_id    VARCHAR,
  customer_id    VARCHAR,
  score          INTEGER NOT NULL,   -- 1..5
  comment_title  VARCHAR,
  comment        VARCHAR,
  survey_sent_at TIMESTAMPTZ,
  responded_at   TIMESTAMPTZ,
  source         VARCHAR NOT NULL DEFAULT 'survey'   -- survey, olist, generator
);

CREATE TABLE support_contacts (
  contact_id    VARCHAR PRIMARY KEY,
  customer_id   VARCHAR,
  order_id      VARCHAR,
  shipment_id   VARCHAR,
  channel       VARCHAR NOT NULL,  -- email, chat, phone
  reason        VARCHAR NOT NULL,  -- wismo, late, damaged, return, billing, other
  created_at    TIMESTAMPTZ NOT NULL,
  resolved_at   TIMESTAMPTZ
);

CREATE TABLE nba_decisions (
  decision_id     VARCHAR PRIMARY KEY,
  customer_id     VARCHAR,
  order_id        VARCHAR,
  shipment_id     VARCHAR,
  decided_at      TIMESTAMPTZ NOT NULL,
  context         JSON NOT NULL,      -- the features the policy saw
  action          VARCHAR NOT NULL,   -- none, proactive_delay_notice, discount_10, free_return, upgrade_shipping ...
  propensity      DOUBLE NOT NULL,    -- probability the logging policy chose this action (0,1]
  policy_version  VARCHAR NOT NULL,
  outcome         VARCHAR,            -- e.g. csat_5, repeat_purchase, contact, none
  reward          DOUBLE,
  outcome_at      TIMESTAMPTZ
);

-- Loader bookkeeping: rows that failed validation, kept with their reason, and files already loaded.
CREATE SEQUENCE load_rejects_seq;
CREATE TABLE load_rejects (
  reject_id    BIGINT PRIMARY KEY DEFAULT nextval('load_rejects_seq'),
  entity       VARCHAR NOT NULL,
  file         VARCHAR NOT NULL,
  line         BIGINT,
  field        VARCHAR,
  reason       VARCHAR NOT NULL,
  raw          JSON,
  rejected_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

CREATE TABLE load_files (
  entity        VARCHAR NOT NULL,
  file          VARCHAR NOT NULL,
  sha256        VARCHAR NOT NULL,
  rows_read     BIGINT NOT NULL,
  rows_loaded   BIGINT NOT NULL,
  rows_rejected BIGINT NOT NULL,
  loaded_at     TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
  PRIMARY KEY (entity, sha256)
);

-- Consent history per customer, channel and stream; customers.consent_* hold the current state.
CREATE TABLE consent_records (
  customer_id  VARCHAR NOT NULL,
  channel      VARCHAR NOT NULL,   -- email, sms
  stream       VARCHAR NOT NULL,   -- transactional, promotional
  granted      BOOLEAN NOT NULL,
  source       VARCHAR NOT NULL,   -- checkout, preference_center, unsubscribe_link, import, ...
  recorded_at  TIMESTAMPTZ NOT NULL
);

-- Addresses never to send to, per stream ('all' blocks every stream).
CREATE TABLE email_suppressions (
  address          VARCHAR NOT NULL,   -- lower-cased email address
  stream           VARCHAR NOT NULL,   -- all, transactional, promotional
  reason           VARCHAR NOT NULL,   -- hard_bounce, complaint, unsubscribe, manual
  source_event_id  VARCHAR,
  created_at       TIMESTAMPTZ NOT NULL,
  PRIMARY KEY (address, stream)
);
