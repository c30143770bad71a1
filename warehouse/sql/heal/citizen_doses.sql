-- citizen_doses completed for the pending batch: every (citizen, dose) of its +1 rows
-- (ReplacingMergeTree on that pair: a pair already there is merged away).
-- Parameters: db (Identifier).
INSERT INTO {db:Identifier}.citizen_doses (citizen_key, dose_id)
SELECT unhex(citizen_key), dose_id FROM {db:Identifier}.ledger_pending WHERE sign = 1
