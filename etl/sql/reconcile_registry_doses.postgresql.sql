-- The valid doses of some local days and provinces (the caller keeps those of the differing
-- cells), as of a change sequence. Parameters: upto, days (expanding), provinces (expanding).
SELECT dose_id, version, province_code,
       to_char(administered_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD') AS day,
       vaccine_code
FROM doses
WHERE status = 'valid' AND change_seq <= :upto
  AND to_char(administered_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD') IN :days
  AND province_code IN :provinces
