-- Registry doses whose current state has one of these change sequence numbers (the states
-- the warehouse rejected, if still current). Parameters: seqs (expanding).
SELECT dose_id, status, province_code, vaccine_code, version, dose_number, administered_at
FROM doses
WHERE change_seq IN :seqs
