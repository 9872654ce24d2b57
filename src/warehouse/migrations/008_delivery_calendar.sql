-- The delivery calendar: days on which carriers in a country neither pick up nor deliver standard
-- parcels (public holidays). Ordinary weeks are implied: pick-ups Monday–Friday, deliveries
-- Monday–Saturday. Users fill it for the countries they ship in; the synthetic generator writes its
-- own holidays and the Olist loader Brazil's national holidays. The ETA features read it
-- point in time (a holiday is known in advance), see docs/ETA.md.
CREATE TABLE delivery_calendar (
  country  VARCHAR NOT NULL,   -- ISO-3166 alpha-2
  day      DATE NOT NULL,      -- local calendar date
  name     VARCHAR NOT NULL,   -- e.g. Christmas Day
  source   VARCHAR NOT NULL,   -- generator, olist (built-in list), file, ...
  PRIMARY KEY (country, day)
);
