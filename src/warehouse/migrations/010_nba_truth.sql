-- Next-best action with the five contract actions (src/domain/nba.ts): the decision log gains a
-- control flag, and the generator's NBA ground truth is replaced by tables that give the true
-- expected reward of every action for every logged decision, so tests can compute the true value
-- of any policy and of the oracle. Documented in docs/SYNTHETIC.md and docs/NBA.md.

-- True when the decision fell in the held-out do-nothing control group (its action is then 'none').
-- Nullable with a default: DuckDB cannot add a column with a NOT NULL constraint.
ALTER TABLE nba_decisions ADD COLUMN control BOOLEAN DEFAULT false;

-- The old truth (retention under the four old actions) no longer describes the data.
DROP TABLE truth_nba_outcomes;
DROP TABLE truth_nba_effects;

-- Planted effect of each action on the outcomes, and its unit cost.
CREATE TABLE truth_nba_action_effects (
  action                 VARCHAR NOT NULL,
  repeat_logit           DOUBLE NOT NULL,   -- added to the repeat-purchase log-odds for every shipment
  repeat_logit_if_late   DOUBLE NOT NULL,   -- added when the shipment ends up late
  csat_shift             DOUBLE NOT NULL,   -- latent CSAT shift when delivered on time
  csat_shift_if_late     DOUBLE NOT NULL,   -- latent CSAT shift when late
  contact_shift_if_late  DOUBLE NOT NULL,   -- WISMO contact probability shift when late
  unit_cost              DOUBLE NOT NULL,   -- fixed cost per decision (shipping_refund adds the shipping paid)
  cost_rule              VARCHAR NOT NULL,
  eligibility            VARCHAR NOT NULL,
  description            VARCHAR NOT NULL
);
CREATE UNIQUE INDEX truth_nba_action_effects_pk ON truth_nba_action_effects(action);

-- Per logged decision and action: eligibility and the true expected outcomes and reward.
-- Ineligible actions have eligible = false and NULL expectations.
CREATE TABLE truth_nba_action_values (
  decision_id      VARCHAR NOT NULL,
  action           VARCHAR NOT NULL,
  eligible         BOOLEAN NOT NULL,
  p_repeat         DOUBLE,             -- P(repeat purchase within 90 days)
  expected_csat    DOUBLE,             -- E[survey score 1..5] if the customer answers
  p_csat_response  DOUBLE,             -- P(the customer answers the survey); independent of the action
  p_contact        DOUBLE,             -- P(where-is-my-order contact)
  cost             DOUBLE,             -- cost of the action (currency units)
  expected_reward  DOUBLE,             -- E[reward] under the run's reward weights (truth_parameters nba.reward.*)
  is_late          BOOLEAN NOT NULL
);
CREATE UNIQUE INDEX truth_nba_action_values_pk ON truth_nba_action_values(decision_id, action);
