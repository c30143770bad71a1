-- coverage_known recomputed from dose_ledger on the (local day, known day, province) cells
-- the pending batch touches (a cancel row's known day is that of the state it cancels): the
-- difference between the ledger's signed count and what the table sums is inserted where it
-- is not zero. The age-group rule is coverage_known_mv's (schema 0023).
-- Parameters: db (Identifier).
INSERT INTO {db:Identifier}.coverage_known
    (day, known_day, province_code, dose_number, vaccine_code, age_group, doses)
WITH touched AS
(
    SELECT DISTINCT toDate(administered_at) AS day, toDate(recorded_at) AS known_day,
           province_code
    FROM {db:Identifier}.ledger_pending
)
SELECT day, known_day, province_code, dose_number, vaccine_code, age_group, sum(doses) AS delta
FROM
(
    SELECT
        toDate(administered_at) AS day,
        toDate(recorded_at) AS known_day,
        province_code,
        dose_number,
        vaccine_code,
        multiIf(
            birth_year = 0, 'unknown',
            toInt32(toYear(administered_at)) - toInt32(birth_year) < 12, '0-11',
            toInt32(toYear(administered_at)) - toInt32(birth_year) < 18, '12-17',
            toInt32(toYear(administered_at)) - toInt32(birth_year) < 50, '18-49',
            toInt32(toYear(administered_at)) - toInt32(birth_year) < 65, '50-64',
            '65+'
        ) AS age_group,
        toInt64(sign) AS doses
    FROM {db:Identifier}.dose_ledger
    WHERE status = 'valid'
      -- whole cells, and only the ledger's partitions the batch reaches
      AND toDate(administered_at) BETWEEN (SELECT min(day) FROM touched) AND (SELECT max(day) FROM touched)
      AND (toDate(administered_at), toDate(recorded_at), province_code)
          IN (SELECT day, known_day, province_code FROM touched)
    UNION ALL
    SELECT day, known_day, province_code, dose_number, vaccine_code, age_group, -doses
    FROM {db:Identifier}.coverage_known
    WHERE (day, known_day, province_code) IN (SELECT day, known_day, province_code FROM touched)
)
GROUP BY day, known_day, province_code, dose_number, vaccine_code, age_group
HAVING delta != 0
