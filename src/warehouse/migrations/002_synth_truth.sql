-- Ground truth planted by the synthetic generator (`shipcast generate`), so models can be tested
-- against what was planted. Documented in docs/SYNTHETIC.md. Empty unless the generator ran.

-- One row per generator run.
CREATE TABLE truth_runs (
  seed               BIGINT NOT NULL,
  shipments          BIGINT NOT NULL,
  as_of              TIMESTAMPTZ NOT NULL,   -- end of history
  history_start      TIMESTAMPTZ NOT NULL,   -- first possible purchase
  generator_version  VARCHAR NOT NULL,
  generated_at       TIMESTAMPTZ NOT NULL
);

-- Every realism knob and behavioural coefficient of the run.
CREATE TABLE truth_parameters (
  name         VARCHAR PRIMARY KEY,
  value        DOUBLE,
  text_value   VARCHAR,
  description  VARCHAR NOT NULL
);

-- Calendar used by the run: holidays, hand-off days, delivery days per service class, peak season.
CREATE TABLE truth_calendar (
  day              DATE PRIMARY KEY,
  holiday          VARCHAR,
  business_day     BOOLEAN NOT NULL,   -- carriers pick up (Mon-Fri, not a holiday)
  ground_delivers  BOOLEAN NOT NULL,   -- ground and international_standard deliver (Mon-Sat, not a holiday)
  express_delivers BOOLEAN NOT NULL,   -- express, overnight and international_express deliver (Mon-Sat)
  peak_multiplier  DOUBLE NOT NULL     -- transit multiplier for parcels handed off that day
);

-- Lanes (fulfilment centre -> destination metro) and their planted transit effect.
CREATE TABLE truth_lanes (
  lane_id             VARCHAR PRIMARY KEY,   -- e.g. CMH>MIA
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

-- Transit distribution per lane and carrier service, before peak season and holds.
CREATE TABLE truth_lane_services (
  lane_id               VARCHAR NOT NULL,
  carrier               VARCHAR NOT NULL,
  service_level         VARCHAR NOT NULL,
  chart_median_days     DOUBLE NOT NULL,     -- the carrier's published median (no lane effect)
  median_days           DOUBLE NOT NULL,     -- exp(mu): true median of the raw transit draw
  mu                    DOUBLE NOT NULL,
  sigma                 DOUBLE NOT NULL,
  quoted_business_days  INTEGER NOT NULL,    -- promise shown at checkout, after the hand-off day
  PRIMARY KEY (lane_id, carrier, service_level)
);

-- Weather disruptions and customs holds: shipments to the region handed off in the window are held.
CREATE TABLE truth_disruptions (
  disruption_id         VARCHAR PRIMARY KEY,
  kind                  VARCHAR NOT NULL,    -- weather | customs
  region                VARCHAR NOT NULL,
  country               VARCHAR NOT NULL,
  starts_at             TIMESTAMPTZ NOT NULL,
  ends_at               TIMESTAMPTZ NOT NULL,
  affects_shipped_from  TIMESTAMPTZ NOT NULL,
  affects_shipped_to    TIMESTAMPTZ NOT NULL,
  extra_days            DOUBLE NOT NULL      -- added to the raw transit of every held shipment
);

-- Per shipment: the true distribution of Y = days from shipped_at (hand-off) to delivered_at.
-- Y = R(shipped_at + (hold_days + exp(mu + sigma*Z)) days) - shipped_at, Z ~ N(0,1), where R rolls an
-- arrival onto the next delivery day of the service's calendar (continuous, strictly increasing).
CREATE TABLE truth_shipment_transit (
  shipment_id                       VARCHAR PRIMARY KEY,
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

-- Per order: the true return probability and its drivers (logistic model; see truth_parameters).
CREATE TABLE truth_order_returns (
  order_id        VARCHAR PRIMARY KEY,
  category        VARCHAR NOT NULL,
  subtotal        DOUBLE NOT NULL,
  discount_share  DOUBLE NOT NULL,
  late_days       DOUBLE NOT NULL,   -- eventual lateness against the promise (0 if on time)
  logit           DOUBLE NOT NULL,
  return_prob     DOUBLE NOT NULL,   -- P(return | delivered)
  returned        BOOLEAN NOT NULL   -- realized draw (a return may still be after as_of)
);

-- True effect of each next-best action on the log-odds of retention (repeat purchase within 30 days).
CREATE TABLE truth_nba_effects (
  action               VARCHAR PRIMARY KEY,
  logit_effect         DOUBLE NOT NULL,   -- for every shipment
  logit_effect_if_late DOUBLE NOT NULL,   -- added when the shipment ends up late
  cost_share           DOUBLE NOT NULL,   -- cost as a share of the order subtotal
  description          VARCHAR NOT NULL
);

-- Per logged decision: the true retention probability under each action (for off-policy evaluation).
CREATE TABLE truth_nba_outcomes (
  decision_id                 VARCHAR PRIMARY KEY,
  p_none                      DOUBLE NOT NULL,
  p_proactive_delay_notice    DOUBLE NOT NULL,
  p_discount_10               DOUBLE NOT NULL,
  p_free_return               DOUBLE NOT NULL,
  is_late                     BOOLEAN NOT NULL
);

-- Planted carrier billing errors.
CREATE TABLE truth_invoice_errors (
  invoice_id   VARCHAR NOT NULL,   -- the erroneous invoice (for duplicates: the second copy)
  shipment_id  VARCHAR NOT NULL,
  error_type   VARCHAR NOT NULL,   -- duplicate_invoice | wrong_accessorial | guaranteed_late_billed_full
  overcharge   DOUBLE NOT NULL,    -- amount billed beyond the contract
  detail       VARCHAR,
  PRIMARY KEY (invoice_id, error_type)
);
