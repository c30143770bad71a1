-- Registry doses by dose_id, every status, with their citizens: the file-drop columns, then
-- change_seq (the repair re-sends these). Parameters: ids (expanding).
SELECT d.dose_id, d.version, d.status, d.citizen_id, c.full_name, c.date_of_birth, c.sex,
       c.phone, d.province_code, d.site_id, d.vaccine_code, d.lot_number, d.dose_number,
       d.administered_at, d.change_seq
FROM doses AS d
JOIN citizens AS c ON c.citizen_id = d.citizen_id
WHERE d.dose_id IN :ids
