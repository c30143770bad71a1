-- One person's signed dose states: every dose_ledger row of the dose_ids the citizen index
-- (citizen_doses) holds for the key, uncollapsed. Both reads are primary-key reads; the few
-- rows are collapsed by warehouse/citizens.py with doses_current's rules (a state is live
-- when its signs sum above zero; the highest live version of a dose wins; void or moved to
-- another person drops it). Collapsing these rows in SQL (GROUP BY every column, LIMIT 1 BY)
-- or with FINAL costs more than the read itself; bench/warehouse_ledger.py times the read.
-- One thread: a handful of granules, where more threads only add scheduling.
-- Parameters: db (Identifier), citizen_key (String).
SELECT dose_id, version, status, citizen_key, birth_year, sex, province_code, site_id,
       vaccine_code, lot_number, dose_number, administered_at, recorded_at, source, sign
FROM {db:Identifier}.dose_ledger
WHERE dose_id IN (
    SELECT dose_id FROM {db:Identifier}.citizen_doses
    WHERE citizen_key = unhex({citizen_key:String})
)
SETTINGS max_threads = 1
