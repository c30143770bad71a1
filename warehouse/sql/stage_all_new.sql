-- Whether the staged batch holds only doses the ledger has never seen, each staged once: the
-- common case of a file drop or a stream catching up. Then the plan (ledger_stage_plan)
-- would call every staged row 'new' and write it as it is, a +1 row, so the writer skips it
-- (write_pending_new.sql). Returns (staged rows beyond one per dose_id, ledger rows of the
-- staged dose_ids); both 0 means all new. Parameters: db (Identifier).
SELECT
    (SELECT count() - uniqExact(dose_id) FROM {db:Identifier}.ledger_stage),
    (SELECT count() FROM {db:Identifier}.dose_ledger
     WHERE dose_id IN (SELECT dose_id FROM {db:Identifier}.ledger_stage))
