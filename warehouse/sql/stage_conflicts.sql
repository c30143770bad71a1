-- (dose_id, version) pairs that cannot be written: staged twice with different content, or
-- staged with the stored version but other content; with the staged rows they cover. Only
-- dose_ids staged more than once can disagree within the batch, so only they are grouped.
-- Parameters: db (Identifier).
WITH cityHash64(toString(status), citizen_key, birth_year, toString(sex),
                toString(province_code), toString(site_id), toString(vaccine_code),
                lot_number, dose_number, administered_at) AS content
SELECT dose_id, version, count() AS rows
FROM {db:Identifier}.ledger_stage
WHERE dose_id IN (SELECT dose_id FROM {db:Identifier}.ledger_stage GROUP BY dose_id HAVING count() > 1)
GROUP BY dose_id, version
HAVING min(content) != max(content)
UNION ALL
SELECT dose_id, version, 1 AS rows
FROM {db:Identifier}.ledger_plan
WHERE outcome = 'conflict'
