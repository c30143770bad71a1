-- Stock movements changed after a checkpoint, in change order (runs on the registry).
-- Parameters: after (the checkpoint's change_seq).
SELECT movement_id, kind, level, province_code, site_id, vaccine_code, lot_number,
       expiry_date, quantity, moved_at, transfer_id, change_seq
FROM stock_movements WHERE change_seq > :after ORDER BY change_seq
