-- Reference data the loaders resolve against, so a later extract that lacks a dimension file
-- (sellers, products, geolocation) can still be mapped from what the warehouse already knows.

-- Centroid of a postal prefix (e.g. Olist's 5-digit CEP prefix), averaged from point samples.
CREATE TABLE postal_geo (
  country        VARCHAR NOT NULL,   -- ISO-3166 alpha-2
  postal_prefix  VARCHAR NOT NULL,
  lat            DOUBLE NOT NULL,
  lng            DOUBLE NOT NULL,
  city           VARCHAR,
  region         VARCHAR,            -- state / province code
  n_points       INTEGER,            -- how many samples were averaged
  source         VARCHAR NOT NULL,   -- olist, file, generator
  PRIMARY KEY (country, postal_prefix)
);

-- Marketplace sellers / shipping origins.
CREATE TABLE sellers (
  seller_id      VARCHAR PRIMARY KEY,
  postal_prefix  VARCHAR,
  city           VARCHAR,
  region         VARCHAR,
  country        VARCHAR,
  source         VARCHAR NOT NULL
);

-- Product catalogue: category and the physical measures that drive freight.
CREATE TABLE products (
  product_id     VARCHAR PRIMARY KEY,
  category       VARCHAR,            -- the source's category code (e.g. Olist Portuguese name)
  weight_g       DOUBLE,
  length_cm      DOUBLE,
  height_cm      DOUBLE,
  width_cm       DOUBLE,
  source         VARCHAR NOT NULL
);

-- Display names of category codes.
CREATE TABLE product_categories (
  category       VARCHAR PRIMARY KEY,
  name_en        VARCHAR NOT NULL
);
