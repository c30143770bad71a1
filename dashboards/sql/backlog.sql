-- Booked appointments not yet resolved, per province: upcoming (slot at or after `now`),
-- within the next 7 days, and overdue (slot passed, still 'booked'); beside the daily
-- capacity of the province's sites.
-- Parameters: db (Identifier), province (String, '' = every province),
--             now (DateTime('Asia/Ho_Chi_Minh')).
WITH scope_sites AS (
    SELECT site_id, province_code, daily_capacity FROM {db:Identifier}.sites FINAL
    WHERE {province:String} = '' OR province_code = {province:String}
)
SELECT
    s.province_code AS province_code,
    countIf(r.slot_start >= {now:DateTime('Asia/Ho_Chi_Minh')}) AS upcoming,
    countIf(r.slot_start >= {now:DateTime('Asia/Ho_Chi_Minh')}
            AND r.slot_start < {now:DateTime('Asia/Ho_Chi_Minh')} + INTERVAL 7 DAY) AS next_7_days,
    countIf(r.slot_start < {now:DateTime('Asia/Ho_Chi_Minh')}) AS overdue,
    any(c.capacity) AS daily_capacity
FROM {db:Identifier}.registrations AS r FINAL
INNER JOIN scope_sites AS s ON s.site_id = r.site_id
INNER JOIN (
    SELECT province_code, sum(daily_capacity) AS capacity FROM scope_sites GROUP BY province_code
) AS c ON c.province_code = s.province_code
WHERE r.status = 'booked'
GROUP BY s.province_code
ORDER BY s.province_code
