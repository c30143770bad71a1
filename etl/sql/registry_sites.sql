-- Vaccination sites changed after a checkpoint, in change order (runs on the registry).
-- Parameters: after (the checkpoint's change_seq).
SELECT site_id, name, province_code, site_type, daily_capacity, opens_minute, closes_minute,
       change_seq
FROM sites WHERE change_seq > :after ORDER BY change_seq
