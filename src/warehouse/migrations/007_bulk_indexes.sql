-- Keys become named unique indexes instead of PRIMARY KEY / UNIQUE constraints (docs/DATA_CONTRACT.md, "Keys").
-- Why: DuckDB cannot drop a primary key, and maintaining ART indexes row by row makes bulk writes
-- (the generator, large loads) several times slower than building the index once afterwards. A
-- unique index enforces the same key, serves ON CONFLICT / INSERT OR REPLACE just like a primary
-- key, and can be dropped for a bulk write and re-created (src/warehouse/bulk-indexes.ts).
-- Each table is rebuilt with exactly the same columns, types, defaults and NOT NULLs (key columns
-- keep the NOT NULL their primary key implied), its rows copied across, then indexed:
-- <table>_pk for the key, <table>_<column>_key for another unique column, secondary indexes as before.
-- deferred_indexes journals indexes dropped for a bulk write, so an interrupted write is repaired
-- on the next open.

CREATE TABLE deferred_indexes (
  table_name   VARCHAR NOT NULL,
  index_name   VARCHAR NOT NULL,
  sql          VARCHAR NOT NULL,     -- the CREATE INDEX statement that restores it
  deferred_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

CREATE TABLE customers_new (
  customer_id                     VARCHAR NOT NULL,
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
INSERT INTO customers_new SELECT * FROM customers;
DROP TABLE customers;
ALTER TABLE customers_new RENAME TO customers;
CREATE UNIQUE INDEX customers_pk ON customers(customer_id);

CREATE TABLE orders_new (
  order_id          VARCHAR NOT NULL,
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
INSERT INTO orders_new SELECT * FROM orders;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
CREATE UNIQUE INDEX orders_pk ON orders(order_id);

CREATE TABLE order_items_new (
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
  shipping_limit_at TIMESTAMPTZ            -- seller's hand-off deadline
);
INSERT INTO order_items_new SELECT * FROM order_items;
DROP TABLE order_items;
ALTER TABLE order_items_new RENAME TO order_items;
CREATE UNIQUE INDEX order_items_pk ON order_items(order_id, line_no);

CREATE TABLE shipments_new (
  shipment_id          VARCHAR NOT NULL,
  order_id             VARCHAR NOT NULL,
  tracking_number      VARCHAR NOT NULL,
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
INSERT INTO shipments_new SELECT * FROM shipments;
DROP TABLE shipments;
ALTER TABLE shipments_new RENAME TO shipments;
CREATE UNIQUE INDEX shipments_pk ON shipments(shipment_id);
CREATE UNIQUE INDEX shipments_tracking_number_key ON shipments(tracking_number);
CREATE INDEX shipments_order_idx ON shipments(order_id);

CREATE TABLE tracking_events_new (
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
  received_at          TIMESTAMPTZ NOT NULL    -- when shipcast stored it
);
INSERT INTO tracking_events_new SELECT * FROM tracking_events;
DROP TABLE tracking_events;
ALTER TABLE tracking_events_new RENAME TO tracking_events;
CREATE UNIQUE INDEX tracking_events_pk ON tracking_events(source, event_id);
CREATE INDEX tracking_events_tn_idx ON tracking_events(tracking_number);

CREATE TABLE freight_invoices_new (
  invoice_id           VARCHAR NOT NULL,
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
INSERT INTO freight_invoices_new SELECT * FROM freight_invoices;
DROP TABLE freight_invoices;
ALTER TABLE freight_invoices_new RENAME TO freight_invoices;
CREATE UNIQUE INDEX freight_invoices_pk ON freight_invoices(invoice_id);
CREATE INDEX freight_invoices_shipment_idx ON freight_invoices(shipment_id);

CREATE TABLE freight_invoice_charges_new (
  invoice_id    VARCHAR NOT NULL,
  line_no       INTEGER NOT NULL,
  charge_type   VARCHAR NOT NULL,   -- base, fuel, residential, delivery_area, signature, saturday, address_correction, oversize, customs_duty, guaranteed_refund
  amount        DOUBLE NOT NULL
);
INSERT INTO freight_invoice_charges_new SELECT * FROM freight_invoice_charges;
DROP TABLE freight_invoice_charges;
ALTER TABLE freight_invoice_charges_new RENAME TO freight_invoice_charges;
CREATE UNIQUE INDEX freight_invoice_charges_pk ON freight_invoice_charges(invoice_id, line_no);

CREATE TABLE returns_new (
  return_id               VARCHAR NOT NULL,
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
INSERT INTO returns_new SELECT * FROM returns;
DROP TABLE returns;
ALTER TABLE returns_new RENAME TO returns;
CREATE UNIQUE INDEX returns_pk ON returns(return_id);

CREATE TABLE email_messages_new (
  message_id          VARCHAR NOT NULL,
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
INSERT INTO email_messages_new SELECT * FROM email_messages;
DROP TABLE email_messages;
ALTER TABLE email_messages_new RENAME TO email_messages;
CREATE UNIQUE INDEX email_messages_pk ON email_messages(message_id);

CREATE TABLE email_events_new (
  source              VARCHAR NOT NULL,   -- mailgun, history
  event_id            VARCHAR NOT NULL,
  message_id          VARCHAR,
  provider_message_id VARCHAR,
  event               VARCHAR NOT NULL,   -- accepted, delivered, failed, opened, clicked, unsubscribed, complained
  severity            VARCHAR,            -- permanent | temporary, for failed
  reason              VARCHAR,
  url                 VARCHAR,            -- clicked link
  occurred_at         TIMESTAMPTZ NOT NULL,
  received_at         TIMESTAMPTZ NOT NULL
);
INSERT INTO email_events_new SELECT * FROM email_events;
DROP TABLE email_events;
ALTER TABLE email_events_new RENAME TO email_events;
CREATE UNIQUE INDEX email_events_pk ON email_events(source, event_id);

CREATE TABLE csat_responses_new (
  response_id    VARCHAR NOT NULL,
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
INSERT INTO csat_responses_new SELECT * FROM csat_responses;
DROP TABLE csat_responses;
ALTER TABLE csat_responses_new RENAME TO csat_responses;
CREATE UNIQUE INDEX csat_responses_pk ON csat_responses(response_id);

CREATE TABLE support_contacts_new (
  contact_id    VARCHAR NOT NULL,
  customer_id   VARCHAR,
  order_id      VARCHAR,
  shipment_id   VARCHAR,
  channel       VARCHAR NOT NULL,  -- email, chat, phone
  reason        VARCHAR NOT NULL,  -- wismo, late, damaged, return, billing, other
  created_at    TIMESTAMPTZ NOT NULL,
  resolved_at   TIMESTAMPTZ
);
INSERT INTO support_contacts_new SELECT * FROM support_contacts;
DROP TABLE support_contacts;
ALTER TABLE support_contacts_new RENAME TO support_contacts;
CREATE UNIQUE INDEX support_contacts_pk ON support_contacts(contact_id);

CREATE TABLE nba_decisions_new (
  decision_id     VARCHAR NOT NULL,
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
INSERT INTO nba_decisions_new SELECT * FROM nba_decisions;
DROP TABLE nba_decisions;
ALTER TABLE nba_decisions_new RENAME TO nba_decisions;
CREATE UNIQUE INDEX nba_decisions_pk ON nba_decisions(decision_id);

CREATE TABLE truth_parameters_new (
  name         VARCHAR NOT NULL,
  value        DOUBLE,
  text_value   VARCHAR,
  description  VARCHAR NOT NULL
);
INSERT INTO truth_parameters_new SELECT * FROM truth_parameters;
DROP TABLE truth_parameters;
ALTER TABLE truth_parameters_new RENAME TO truth_parameters;
CREATE UNIQUE INDEX truth_parameters_pk ON truth_parameters(name);

CREATE TABLE truth_calendar_new (
  day              DATE NOT NULL,
  holiday          VARCHAR,
  business_day     BOOLEAN NOT NULL,   -- carriers pick up (Mon-Fri, not a holiday)
  ground_delivers  BOOLEAN NOT NULL,   -- ground and international_standard deliver (Mon-Sat, not a holiday)
  express_delivers BOOLEAN NOT NULL,   -- express, overnight and international_express deliver (Mon-Sat)
  peak_multiplier  DOUBLE NOT NULL     -- transit multiplier for parcels handed off that day
);
INSERT INTO truth_calendar_new SELECT * FROM truth_calendar;
DROP TABLE truth_calendar;
ALTER TABLE truth_calendar_new RENAME TO truth_calendar;
CREATE UNIQUE INDEX truth_calendar_pk ON truth_calendar(day);

CREATE TABLE truth_lanes_new (
  lane_id             VARCHAR NOT NULL,   -- e.g. CMH>MIA
  origin_code         VARCHAR NOT NULL,
  origin_postal_prefix VARCHAR NOT NULL,
  dest_code           VARCHAR NOT NULL,
  dest_postal_prefix  VARCHAR NOT NULL,
  dest_region         VARCHAR NOT NULL,
  dest_country        VARCHAR NOT NULL,
  distance_km         DOUBLE NOT NULL,       -- haversine
  zone                INTEGER NOT NULL,      -- 2..8
  transit_multiplier  DOUBLE NOT NULL,       -- multiplicative effect on transit days
  log_effect          DOUBLE NOT NULL,       -- ln(transit_multiplier): additive on log transit
  planted             VARCHAR                -- 'slow', 'mild' or NULL (random small effect)
);
INSERT INTO truth_lanes_new SELECT * FROM truth_lanes;
DROP TABLE truth_lanes;
ALTER TABLE truth_lanes_new RENAME TO truth_lanes;
CREATE UNIQUE INDEX truth_lanes_pk ON truth_lanes(lane_id);

CREATE TABLE truth_lane_services_new (
  lane_id               VARCHAR NOT NULL,
  carrier               VARCHAR NOT NULL,
  service_level         VARCHAR NOT NULL,
  chart_median_days     DOUBLE NOT NULL,     -- the carrier's published median (no lane effect)
  median_days           DOUBLE NOT NULL,     -- exp(mu): true median of the raw transit draw
  mu                    DOUBLE NOT NULL,
  sigma                 DOUBLE NOT NULL,
  quoted_business_days  INTEGER NOT NULL     -- promise shown at checkout, after the hand-off day
);
INSERT INTO truth_lane_services_new SELECT * FROM truth_lane_services;
DROP TABLE truth_lane_services;
ALTER TABLE truth_lane_services_new RENAME TO truth_lane_services;
CREATE UNIQUE INDEX truth_lane_services_pk ON truth_lane_services(lane_id, carrier, service_level);

CREATE TABLE truth_disruptions_new (
  disruption_id         VARCHAR NOT NULL,
  kind                  VARCHAR NOT NULL,    -- weather | customs
  region                VARCHAR NOT NULL,
  country               VARCHAR NOT NULL,
  starts_at             TIMESTAMPTZ NOT NULL,
  ends_at               TIMESTAMPTZ NOT NULL,
  affects_shipped_from  TIMESTAMPTZ NOT NULL,
  affects_shipped_to    TIMESTAMPTZ NOT NULL,
  extra_days            DOUBLE NOT NULL      -- added to the raw transit of every held shipment
);
INSERT INTO truth_disruptions_new SELECT * FROM truth_disruptions;
DROP TABLE truth_disruptions;
ALTER TABLE truth_disruptions_new RENAME TO truth_disruptions;
CREATE UNIQUE INDEX truth_disruptions_pk ON truth_disruptions(disruption_id);

CREATE TABLE truth_shipment_transit_new (
  shipment_id                       VARCHAR NOT NULL,
  order_id                          VARCHAR NOT NULL,
  lane_id                           VARCHAR NOT NULL,
  carrier                           VARCHAR NOT NULL,
  service_level                     VARCHAR NOT NULL,
  delivery_class                    VARCHAR NOT NULL,   -- ground | express calendar
  dist                              VARCHAR NOT NULL,   -- 'lognormal_calendar'
  mu                                DOUBLE NOT NULL,    -- lane-service mu + peak + heavy-parcel effects
  sigma                             DOUBLE NOT NULL,
  hold_days                         DOUBLE NOT NULL,    -- planted disruption delay (0 if none)
  disruption_id                     VARCHAR,
  median_days                       DOUBLE NOT NULL,    -- = p50_days
  mean_days                         DOUBLE NOT NULL,
  expected_abs_dev_from_median_days DOUBLE NOT NULL,    -- E|Y - median(Y)|: the irreducible P50 MAE
  p10_days                          DOUBLE NOT NULL,
  p50_days                          DOUBLE NOT NULL,
  p90_days                          DOUBLE NOT NULL,
  will_deliver                      BOOLEAN NOT NULL,   -- false: exception then return to sender
  true_shipped_at                   TIMESTAMPTZ NOT NULL,  -- also for parcels not yet handed off at as_of
  true_delivered_at                 TIMESTAMPTZ,        -- the realized draw (may be after as_of)
  true_transit_days                 DOUBLE,
  promised_at                       TIMESTAMPTZ NOT NULL,
  is_late                           BOOLEAN,            -- true_delivered_at > promised_at
  -- Purchase -> hand-off: ready = purchase + lognormal(processing_mu, processing_sigma) hours,
  -- then the cut-off / business-day rule.
  processing_mu_hours_log           DOUBLE NOT NULL,
  processing_sigma                  DOUBLE NOT NULL,
  ready_at                          TIMESTAMPTZ NOT NULL,
  purchase_to_handoff_days          DOUBLE NOT NULL
);
INSERT INTO truth_shipment_transit_new SELECT * FROM truth_shipment_transit;
DROP TABLE truth_shipment_transit;
ALTER TABLE truth_shipment_transit_new RENAME TO truth_shipment_transit;
CREATE UNIQUE INDEX truth_shipment_transit_pk ON truth_shipment_transit(shipment_id);

CREATE TABLE truth_order_returns_new (
  order_id        VARCHAR NOT NULL,
  category        VARCHAR NOT NULL,
  subtotal        DOUBLE NOT NULL,
  discount_share  DOUBLE NOT NULL,
  late_days       DOUBLE NOT NULL,   -- eventual lateness against the promise (0 if on time)
  logit           DOUBLE NOT NULL,
  return_prob     DOUBLE NOT NULL,   -- P(return | delivered)
  returned        BOOLEAN NOT NULL   -- realized draw (a return may still be after as_of)
);
INSERT INTO truth_order_returns_new SELECT * FROM truth_order_returns;
DROP TABLE truth_order_returns;
ALTER TABLE truth_order_returns_new RENAME TO truth_order_returns;
CREATE UNIQUE INDEX truth_order_returns_pk ON truth_order_returns(order_id);

CREATE TABLE truth_nba_effects_new (
  action               VARCHAR NOT NULL,
  logit_effect         DOUBLE NOT NULL,   -- for every shipment
  logit_effect_if_late DOUBLE NOT NULL,   -- added when the shipment ends up late
  cost_share           DOUBLE NOT NULL,   -- cost as a share of the order subtotal
  description          VARCHAR NOT NULL
);
INSERT INTO truth_nba_effects_new SELECT * FROM truth_nba_effects;
DROP TABLE truth_nba_effects;
ALTER TABLE truth_nba_effects_new RENAME TO truth_nba_effects;
CREATE UNIQUE INDEX truth_nba_effects_pk ON truth_nba_effects(action);

CREATE TABLE truth_nba_outcomes_new (
  decision_id                 VARCHAR NOT NULL,
  p_none                      DOUBLE NOT NULL,
  p_proactive_delay_notice    DOUBLE NOT NULL,
  p_discount_10               DOUBLE NOT NULL,
  p_free_return               DOUBLE NOT NULL,
  is_late                     BOOLEAN NOT NULL
);
INSERT INTO truth_nba_outcomes_new SELECT * FROM truth_nba_outcomes;
DROP TABLE truth_nba_outcomes;
ALTER TABLE truth_nba_outcomes_new RENAME TO truth_nba_outcomes;
CREATE UNIQUE INDEX truth_nba_outcomes_pk ON truth_nba_outcomes(decision_id);

CREATE TABLE truth_invoice_errors_new (
  invoice_id   VARCHAR NOT NULL,   -- the erroneous invoice (for duplicates: the second copy)
  shipment_id  VARCHAR NOT NULL,
  error_type   VARCHAR NOT NULL,   -- duplicate_invoice | wrong_accessorial | guaranteed_late_billed_full
  overcharge   DOUBLE NOT NULL,    -- amount billed beyond the contract
  detail       VARCHAR
);
INSERT INTO truth_invoice_errors_new SELECT * FROM truth_invoice_errors;
DROP TABLE truth_invoice_errors;
ALTER TABLE truth_invoice_errors_new RENAME TO truth_invoice_errors;
CREATE UNIQUE INDEX truth_invoice_errors_pk ON truth_invoice_errors(invoice_id, error_type);
