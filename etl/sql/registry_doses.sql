-- Dose records changed after a checkpoint, with their citizens, in change order; columns in
-- the file-drop order, then change_seq. Runs on the registry (SQLite or PostgreSQL).
-- Parameters: after (the checkpoint's change_seq).
SELECT d.dose_id, d.version, d.status, d.citizen_id, c.full_name, c.date_of_birth, c.sex,
       c.phone, d.province_code, d.site_id, d.vaccine_code, d.lot_number, d.dose_number,
       d.administered_at, d.change_seq
FROM doses AS d
JOIN citizens AS c ON c.citizen_id = d.citizen_id
WHERE d.change_seq > :after
ORDER BY d.change_seq
