-- Registrations funnel for appointments in [start, stop): registered (not cancelled) ->
-- checked in (a desk scan of the same citizen at the same site that day) -> vaccinated (a
-- live dose of the same citizen at the same site that day); per province, and per site within
-- a province (the whole country's page shows provinces).
-- Continues the WITH of scope_and_given.sql: scope_sites (the sites in scope) and given
-- (the live doses in the window, from dose_visits).
-- Parameters: db (Identifier), province (String, '' = every province),
--             start, stop (DateTime('Asia/Ho_Chi_Minh')).
    booked AS (
        SELECT r.citizen_key, r.site_id, s.province_code, r.status, toDate(r.slot_start) AS day
        FROM {db:Identifier}.registrations AS r FINAL
        INNER JOIN scope_sites AS s ON s.site_id = r.site_id
        WHERE r.slot_start >= {start:DateTime('Asia/Ho_Chi_Minh')}
          AND r.slot_start < {stop:DateTime('Asia/Ho_Chi_Minh')}
    ),
    scanned AS (
        SELECT DISTINCT citizen_key, site_id, toDate(scanned_at) AS day
        FROM {db:Identifier}.checkins FINAL
        WHERE scanned_at >= {start:DateTime('Asia/Ho_Chi_Minh')}
          AND scanned_at < {stop:DateTime('Asia/Ho_Chi_Minh')}
    )
SELECT
    if(grouping(province_code, site_id) = 0, 'site', 'province') AS level,
    province_code,
    site_id,
    countIf(status != 'cancelled') AS registered,
    countIf(status = 'cancelled') AS cancelled,
    countIf(status != 'cancelled' AND (citizen_key, site_id, day) IN (SELECT * FROM scanned)) AS checked_in,
    countIf(status != 'cancelled' AND (citizen_key, site_id, day) IN (SELECT citizen_key, site_id, day FROM given)) AS vaccinated
FROM booked
GROUP BY GROUPING SETS ((province_code, site_id), (province_code))
HAVING {province:String} != '' OR level != 'site'
ORDER BY level, province_code, site_id
