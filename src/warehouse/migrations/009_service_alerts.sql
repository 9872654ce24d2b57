-- Carrier service alerts: what carriers publish about a disruption (a weather event, a customs
-- backlog, a network outage) before and while it delays parcels, with the regions and period it
-- covers and the delay they expect. Users load them from their carriers' service-alert pages or
-- feeds (`shipcast load service_alerts FILE`); the synthetic generator writes one per planted
-- disruption. The ETA features read them point in time: an alert counts only from `announced_at`.
-- The key is a named unique index, like every canonical table since migration 007.
CREATE TABLE service_alerts (
  alert_id             VARCHAR NOT NULL,
  carrier              VARCHAR,               -- shipments.carrier code; NULL = every carrier
  country              VARCHAR NOT NULL,      -- ISO-3166 alpha-2 of the affected destinations
  region               VARCHAR,               -- shipments.dest_region; NULL = the whole country
  kind                 VARCHAR NOT NULL,      -- weather | customs | network | other
  announced_at         TIMESTAMPTZ NOT NULL,  -- when the carrier published it (first known)
  starts_at            TIMESTAMPTZ NOT NULL,  -- parcels handed off from then on are affected
  ends_at              TIMESTAMPTZ NOT NULL,  -- expected end as announced (not revised afterwards)
  expected_delay_days  DOUBLE,                -- the carrier's estimate of the extra days; NULL if not given
  source               VARCHAR NOT NULL,      -- e.g. ups, fedex, file, generator
  message              VARCHAR                -- the alert's text
);
CREATE UNIQUE INDEX service_alerts_pk ON service_alerts(alert_id);
