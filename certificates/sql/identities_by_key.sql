-- The identity fields of one or several citizens by citizen key, from identity_kv (schema
-- 0016: a key-value copy of the restricted citizen_identity holding the row loaded last per
-- person): point gets, where citizen_identity meant a granule of every part. The keys go in
-- as an array parameter (a literal set: point gets); a key nobody has returns no row.
-- Parameters: db (Identifier), citizen_keys (Array(String)).
SELECT citizen_key, full_name, date_of_birth, toString(sex) AS sex, phone_hash
FROM {db:Identifier}.identity_kv
WHERE citizen_key IN {citizen_keys:Array(String)}
SETTINGS max_threads = 1
