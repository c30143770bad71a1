-- Keep the identity fields the certificate lookup needs, by citizen key (restricted table;
-- the phone only as a keyed hash): one row per person in the batch, their latest record.
-- Sorted by the table's key on the way in (ORDER BY … LIMIT 1 BY), so the insert finds its
-- rows already in order; a GROUP BY with argMax gave them in hash order and the insert's
-- own sort of 32-character keys was most of this step's cost (python -m bench.etl_files).
-- Parameters: db, checked (Identifier: the batch's etl_checked table).
INSERT INTO {db:Identifier}.citizen_identity (citizen_key, full_name, date_of_birth, sex, phone_hash)
SELECT citizen_key, full_name, assumeNotNull(date_of_birth), sex, phone_hash
FROM {db:Identifier}.{checked:Identifier}
WHERE reason = ''
ORDER BY citizen_key, position DESC
LIMIT 1 BY citizen_key
