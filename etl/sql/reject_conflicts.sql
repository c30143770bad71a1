-- Refuse the staged rows whose (dose_id, version) cannot be written (same version, other
-- content), with their positions in the batch; rows already refused so (a replay cut at
-- other boundaries) are not recorded twice.
-- Parameters: db, checked (Identifier: the batch's etl_checked table), source (String), batch (String), conflicts (Array(Tuple(String, UInt32))).
INSERT INTO {db:Identifier}.etl_rejects
    (source, position, dose_id, province_code, reason, detail, record, batch_token)
SELECT {source:String}, toString(position), dose_id, province_code, 'conflicting_version',
       toString(version), record, {batch:String}
FROM {db:Identifier}.{checked:Identifier}
WHERE reason = '' AND (dose_id, version) IN {conflicts:Array(Tuple(String, UInt32))}
  AND toString(position) NOT IN (
      SELECT position FROM {db:Identifier}.etl_rejects
      WHERE source = {source:String} AND reason = 'conflicting_version'
  )
