-- Coverage per province as of a day on PostgreSQL: the query of portal_ch_current.sql.
-- Parameters (psycopg): before (timestamptz: the day after, local midnight).
SELECT province_code,
       count(*) FILTER (WHERE dose_number = 1) AS dose1,
       count(*) FILTER (WHERE dose_number = 2) AS dose2,
       count(*) FILTER (WHERE dose_number >= 3) AS dose3_plus,
       count(*) AS doses
FROM bench_doses
WHERE administered_at < %(before)s
GROUP BY province_code
ORDER BY province_code
