-- The valid doses of some local days and provinces (the caller keeps those of the differing
-- cells), as of a change sequence. Parameters: upto, days (expanding), provinces (expanding).
SELECT dose_id, version, province_code, date(administered_at, '+7 hours') AS day, vaccine_code
FROM doses
WHERE status = 'valid' AND change_seq <= :upto
  AND date(administered_at, '+7 hours') IN :days AND province_code IN :provinces
