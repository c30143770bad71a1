-- Check-in to vaccination time in [start, stop): each desk scan is joined to the first live
-- dose of the same citizen at the same site on the same local day at or after the scan
-- (ASOF JOIN); minutes per province, per site (only within a province: the whole country's
-- page shows provinces) and for the whole scope (level 'all').
-- Median and p90 interpolate between neighbours (as numpy.percentile does).
-- Continues the WITH of scope_and_given.sql: scope_sites (the sites in scope) and given
-- (the live doses in the window, from dose_visits).
-- Parameters: db (Identifier), province (String, '' = every province),
--             start, stop (DateTime('Asia/Ho_Chi_Minh')).
    scans AS (
        SELECT c.citizen_key, c.site_id, s.province_code, c.scanned_at, toDate(c.scanned_at) AS day
        FROM {db:Identifier}.checkins AS c FINAL
        INNER JOIN scope_sites AS s ON s.site_id = c.site_id
        WHERE c.scanned_at >= {start:DateTime('Asia/Ho_Chi_Minh')}
          AND c.scanned_at < {stop:DateTime('Asia/Ho_Chi_Minh')}
    ),
    waits AS (
        SELECT scans.province_code AS province_code, scans.site_id AS site_id,
               dateDiff('second', scans.scanned_at, given.administered_at) / 60.0 AS minutes
        FROM scans
        ASOF INNER JOIN given
            ON scans.citizen_key = given.citizen_key
           AND scans.site_id = given.site_id
           AND scans.day = given.day
           AND given.administered_at >= scans.scanned_at
    )
SELECT
    multiIf(grouping(province_code, site_id) = 0, 'site',
            grouping(province_code, site_id) = 1, 'province', 'all') AS level,
    province_code,
    site_id,
    count() AS checkins,
    quantileExactInclusive(0.5)(minutes) AS median_minutes,
    quantileExactInclusive(0.9)(minutes) AS p90_minutes
FROM waits
GROUP BY GROUPING SETS ((province_code, site_id), (province_code), ())
HAVING {province:String} != '' OR level != 'site'
ORDER BY level, province_code, site_id
