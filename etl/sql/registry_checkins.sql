-- Desk check-ins changed after a checkpoint, in change order, in etl_ops_raw's shape
-- (row_id, citizen_id, site_id, at_1 = scanned_at, at_2 NULL, status '', change_seq).
-- Runs on the registry. Parameters: after (the checkpoint's change_seq).
SELECT checkin_id, citizen_id, site_id, scanned_at, NULL, '', change_seq
FROM checkins WHERE change_seq > :after ORDER BY change_seq
