-- Outcomes of the staged batch, per outcome: doses. Parameters: db (Identifier).
SELECT outcome, count() AS doses
FROM {db:Identifier}.ledger_plan
GROUP BY outcome
