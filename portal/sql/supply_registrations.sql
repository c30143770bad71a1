-- App registrations per province (of their site, from the site register) and local day, for
-- the public supply view (portal/supply.py). A registration is pending from the local day it
-- was registered through the local day of its slot, unless its status is 'cancelled'; the
-- registry keeps only each registration's current status (FINAL: the latest version), not
-- when it changed, so a registration cancelled later is left out of the earlier days too.
-- `added`: registered that day (for a slot that day or later); `removed`: its slot was the
-- day before (pending no longer). Pending on a day is their running sum. Registrations at
-- a site the register does not know, or registered after their slot's day, are left out.
-- Parameters: db (Identifier).
SELECT event.1 AS day, province_code, sum(event.2) AS added, sum(event.3) AS removed
FROM (
    SELECT s.province_code AS province_code,
           toDate(r.registered_at) AS registered,
           toDate(r.slot_start) AS slot
    FROM {db:Identifier}.registrations AS r FINAL
    INNER JOIN (SELECT site_id, province_code FROM {db:Identifier}.sites FINAL) AS s
        ON s.site_id = r.site_id
    WHERE r.status != 'cancelled' AND toDate(r.slot_start) >= toDate(r.registered_at)
)
ARRAY JOIN [(registered, toInt64(1), toInt64(0)), (slot + 1, toInt64(0), toInt64(1))] AS event
GROUP BY day, province_code
ORDER BY day, province_code
