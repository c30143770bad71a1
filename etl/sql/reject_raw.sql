-- Record the batch's refused rows (no identity fields) in etl_rejects, except those already
-- recorded for the same source, position and reason: a batch replayed after a crash may be
-- cut at other boundaries (other insert tokens), and must still not record a reject twice.
-- Parameters: db, checked (Identifier: the batch's etl_checked table), source (String), batch (String).
INSERT INTO {db:Identifier}.etl_rejects
    (source, position, dose_id, province_code, reason, detail, record, batch_token)
SELECT {source:String}, toString(position), dose_id, province_code, reason, detail, record,
       {batch:String}
FROM {db:Identifier}.{checked:Identifier}
WHERE reason != ''
  AND (toString(position), reason) NOT IN (
      SELECT position, reason FROM {db:Identifier}.etl_rejects
      WHERE source = {source:String}
        AND position IN (SELECT toString(position) FROM {db:Identifier}.{checked:Identifier} WHERE reason != '')
  )
