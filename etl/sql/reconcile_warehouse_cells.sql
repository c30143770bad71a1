-- Live doses from the registry (its stream and repairs) per province x local day x vaccine:
-- signed sums over the ledger, exact without FINAL (a cancel row repeats the values and the
-- source of the state it cancels), leaving out the given dose ids.
-- Parameters: db (Identifier), source (String), repairs (String), day_from, day_to (Date),
-- excluded (Array(String)).
SELECT province_code, toString(toDate(administered_at)) AS day, vaccine_code,
       sum(sign) AS doses, sum(sign * version) AS versions,
       sum(sign * dose_number) AS dose_numbers
FROM {db:Identifier}.dose_ledger
WHERE status = 'valid'
  AND (source = {source:String} OR startsWith(source, {repairs:String}))
  AND toDate(administered_at) BETWEEN {day_from:Date} AND {day_to:Date}
  AND dose_id NOT IN {excluded:Array(String)}
GROUP BY province_code, day, vaccine_code
HAVING doses != 0 OR versions != 0 OR dose_numbers != 0
