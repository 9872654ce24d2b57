-- The delay email carries the next-best action (docs/EMAIL.md, "Next-best action in the delay email").
-- email_messages records the decision behind a message, the action the policy chose and, when the
-- message could not carry it (no promotional consent or domain, the complaint-rate guardrail), why:
-- the decision log alone would otherwise credit a discount the customer never saw.
ALTER TABLE email_messages ADD COLUMN nba_decision_id VARCHAR;   -- nba_decisions.decision_id
ALTER TABLE email_messages ADD COLUMN nba_action VARCHAR;        -- the action the policy chose
ALTER TABLE email_messages ADD COLUMN nba_fallback VARCHAR;      -- why the email did not carry it (null when it did)

-- The action the queued message renders at send time (null: no decision; 'none' after a fallback).
ALTER TABLE email_outbox ADD COLUMN nba_action VARCHAR;
