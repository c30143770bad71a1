-- Synthetic registrations for the dashboards benchmark, from the doses of the `days` days
-- ending `last`: two in five doses had an appointment at that hour (attended), and as many
-- appointments again are still booked for a week later.
-- Parameters: db (Identifier), last (Date), days (UInt32).
INSERT INTO {db:Identifier}.registrations
    (registration_id, citizen_key, site_id, slot_start, registered_at, status, change_seq)
SELECT cityHash64(dose_id, k), citizen_key, site_id,
       if(k = 0, toStartOfHour(administered_at), toStartOfHour(administered_at) + toIntervalDay(7)),
       administered_at - toIntervalDay(3), if(k = 0, 'attended', 'booked'), 1
FROM {db:Identifier}.dose_ledger
ARRAY JOIN [0, 1] AS k
WHERE administered_at >= toDateTime64({last:Date} - {days:UInt32} + 1, 3, 'Asia/Ho_Chi_Minh')
  AND sign = 1 AND modulo(cityHash64(dose_id, 10), 5) < 2
