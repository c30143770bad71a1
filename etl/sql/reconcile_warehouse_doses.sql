-- Live doses from the registry in the given cells (province, local day, vaccine), by their
-- net signed rows. Parameters: db (Identifier), source (String), repairs (String),
-- cells (Array(Tuple(String, Date, String))), excluded (Array(String)).
SELECT dose_id, version, province_code, toString(toDate(administered_at)) AS day,
       vaccine_code, sum(sign) AS net
FROM {db:Identifier}.dose_ledger
WHERE status = 'valid'
  AND (source = {source:String} OR startsWith(source, {repairs:String}))
  AND (province_code, toDate(administered_at), vaccine_code) IN {cells:Array(Tuple(String, Date, String))}
  AND dose_id NOT IN {excluded:Array(String)}
GROUP BY dose_id, version, province_code, day, vaccine_code
HAVING net != 0
