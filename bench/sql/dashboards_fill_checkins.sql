-- Synthetic desk check-ins for the dashboards benchmark, from the doses of
-- the `days` days ending `last`: every dose has a desk scan 5-35 minutes before it.
-- Parameters: db (Identifier), last (Date), days (UInt32).
INSERT INTO {db:Identifier}.checkins (checkin_id, citizen_key, site_id, scanned_at, change_seq)
SELECT cityHash64(dose_id), citizen_key, site_id,
       administered_at - toIntervalSecond(300 + modulo(cityHash64(dose_id, 9), 1800)), 1
FROM {db:Identifier}.dose_ledger
WHERE administered_at >= toDateTime64({last:Date} - {days:UInt32} + 1, 3, 'Asia/Ho_Chi_Minh')
  AND sign = 1
