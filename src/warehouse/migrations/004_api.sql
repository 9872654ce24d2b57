-- API keys and model training jobs (GraphQL API, issue 4).

-- Keys are shown once at creation; only their SHA-256 is stored. A 256-bit random key makes a
-- plain (unsalted, fast) hash safe: there is nothing to brute-force.
CREATE TABLE api_keys (
  key_id              VARCHAR PRIMARY KEY,   -- public identifier, also the key's prefix
  key_hash            VARCHAR NOT NULL UNIQUE, -- hex sha256 of the whole key
  role                VARCHAR NOT NULL,      -- email-system, data-scientist, leadership, admin
  label               VARCHAR,
  rate_per_second     INTEGER,               -- NULL: the server default
  created_at          TIMESTAMPTZ NOT NULL,
  revoked_at          TIMESTAMPTZ
);

CREATE TABLE model_training_jobs (
  job_id          VARCHAR PRIMARY KEY,
  kind            VARCHAR NOT NULL,          -- eta, returns, nba
  status          VARCHAR NOT NULL,          -- queued, running, succeeded, failed
  requested_by    VARCHAR,                   -- api_keys.key_id
  created_at      TIMESTAMPTZ NOT NULL,
  started_at      TIMESTAMPTZ,
  finished_at     TIMESTAMPTZ,
  model_version   VARCHAR,
  error           VARCHAR
);
