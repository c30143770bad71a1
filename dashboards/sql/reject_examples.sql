-- A few recent rejected rows per reason. `record` is the input without identity fields
-- (the ETL drops CCCD, name, date of birth and phone before storing it).
-- Parameters: db (Identifier), province (String, '' = every province), per_reason (UInt32).
SELECT reason, rejected_at, source, position, dose_id, province_code, detail, record
FROM {db:Identifier}.etl_rejects FINAL
WHERE {province:String} = '' OR province_code = {province:String}
ORDER BY reason, rejected_at DESC, source, position
LIMIT {per_reason:UInt32} BY reason
