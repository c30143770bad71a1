-- One citizen's identity fields (restricted table), latest version, by citizen key: the row
-- loaded last (highest updated_at), as FINAL would keep it, read without FINAL's merge of
-- every part's granule (about half the time at 20 M people). One thread: a point read.
-- Parameters: db (Identifier), citizen_key (String).
SELECT full_name, date_of_birth, toString(sex) AS sex, phone_hash
FROM {db:Identifier}.citizen_identity
WHERE citizen_key = {citizen_key:String}
ORDER BY updated_at DESC
LIMIT 1
SETTINGS max_threads = 1
