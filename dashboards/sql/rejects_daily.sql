-- Rejected input rows per local day (of rejection), reason and province.
-- Parameters: db (Identifier), province (String, '' = every province).
SELECT toDate(rejected_at) AS day, reason, province_code, count() AS rejects
FROM {db:Identifier}.etl_rejects FINAL
WHERE {province:String} = '' OR province_code = {province:String}
GROUP BY day, reason, province_code
ORDER BY day, reason, province_code
