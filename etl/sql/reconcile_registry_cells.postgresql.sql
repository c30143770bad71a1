-- Valid doses per province x local day (Asia/Ho_Chi_Minh) x vaccine, as of a change
-- sequence: doses, sum of versions, sum of dose numbers.
-- Parameters: upto (change_seq), day_from, day_to (YYYY-MM-DD).
SELECT province_code,
       to_char(administered_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD') AS day,
       vaccine_code, count(*) AS doses, sum(version) AS versions,
       sum(dose_number) AS dose_numbers
FROM doses
WHERE status = 'valid' AND change_seq <= :upto
  AND (administered_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
      BETWEEN CAST(:day_from AS date) AND CAST(:day_to AS date)
GROUP BY 1, 2, 3
