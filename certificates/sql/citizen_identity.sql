-- One citizen's identity fields by citizen key, from identity_kv (schema 0016: a key-value
-- copy of the restricted citizen_identity holding the row loaded last per person): a
-- point get, where citizen_identity meant a granule of every part.
-- Parameters: db (Identifier), citizen_key (String).
SELECT full_name, date_of_birth, toString(sex) AS sex, phone_hash
FROM {db:Identifier}.identity_kv
WHERE citizen_key = {citizen_key:String}
