-- App registrations changed after a checkpoint, in change order, in etl_ops_raw's shape
-- (row_id, citizen_id, site_id, at_1 = slot_start, at_2 = registered_at, status,
-- change_seq). Runs on the registry. Parameters: after (the checkpoint's change_seq).
SELECT registration_id, citizen_id, site_id, slot_start, registered_at, status, change_seq
FROM registrations WHERE change_seq > :after ORDER BY change_seq
