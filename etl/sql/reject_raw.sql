-- Record the batch's refused rows (no identity fields) in etl_rejects.
-- Parameters: db (Identifier), source (String), batch (String).
INSERT INTO {db:Identifier}.etl_rejects
    (source, position, dose_id, province_code, reason, detail, record, batch_token)
SELECT {source:String}, toString(position), dose_id, province_code, reason, detail, record,
       {batch:String}
FROM {db:Identifier}.etl_raw_checked
WHERE reason != ''
