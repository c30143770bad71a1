-- Insert the pending signed rows into dose_ledger (and through it its materialized views),
-- in a total order ((dose_id, sign) is unique among pending rows) so that a replay forms
-- the same blocks, under a deduplication token derived from their content (given by the
-- caller). A replay of a landed insert is dropped by the ledger; views that missed it take
-- it. (Reading with one thread would also fix the order, more slowly.) A batch of
-- up to min_insert_block_size_rows (~1 M) signed rows is one insert block, split into
-- parts by partition alone.
-- Parameters: db (Identifier).
INSERT INTO {db:Identifier}.dose_ledger
    (dose_id, version, sign, status, citizen_key, birth_year, sex, province_code, site_id,
     vaccine_code, lot_number, dose_number, administered_at, recorded_at, source)
SELECT dose_id, version, sign, status, citizen_key, birth_year, sex, province_code, site_id,
       vaccine_code, lot_number, dose_number, administered_at, recorded_at, source
FROM {db:Identifier}.ledger_pending
ORDER BY dose_id, sign
