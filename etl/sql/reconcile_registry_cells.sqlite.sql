-- Valid doses per province x local day (Asia/Ho_Chi_Minh, UTC+7 without daylight saving) x
-- vaccine, as of a change sequence: doses, sum of versions, sum of dose numbers. SQLite
-- keeps instants as UTC text. Parameters: upto (change_seq), day_from, day_to (YYYY-MM-DD).
SELECT province_code, date(administered_at, '+7 hours') AS day, vaccine_code,
       count(*) AS doses, sum(version) AS versions, sum(dose_number) AS dose_numbers
FROM doses
WHERE status = 'valid' AND change_seq <= :upto
  AND date(administered_at, '+7 hours') BETWEEN :day_from AND :day_to
GROUP BY province_code, date(administered_at, '+7 hours'), vaccine_code
