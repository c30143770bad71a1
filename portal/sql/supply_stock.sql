-- Stock per province and local day, for the public supply view (portal/supply.py): the
-- doses delivered into the province's places (its store and its sites) from outside it, and
-- the net change of the stock those places hold (every product and lot; the national store
-- belongs to no province). Delivered: movements into a province or site place
-- (quantity > 0) of kind 'received' (a direct delivery), or of kind 'transferred' whose
-- transfer (the rows sharing its transfer_id) has no leg out of a place of the same
-- province: national -> province or site, another province -> this one. A transfer within
-- the province (its store -> its sites, one site -> another) moves stock without delivering
-- any. Only the day's figures: on hand is their running sum (portal.supply.supply_table).
-- Reads the latest version of each movement (FINAL). No site appears in the answer.
-- Parameters: db (Identifier).
WITH
    moves AS (
        SELECT level, province_code, kind, quantity, moved_at, transfer_id
        FROM {db:Identifier}.stock_movements FINAL
        WHERE level IN ('province', 'site')
    ),
    internal AS (
        -- the transfers leaving a place of a province, with that province
        SELECT DISTINCT transfer_id, province_code FROM moves
        WHERE kind = 'transferred' AND quantity < 0
    )
SELECT
    toDate(moved_at) AS day,
    province_code,
    sumIf(quantity, quantity > 0 AND (
        kind = 'received'
        OR (kind = 'transferred' AND (transfer_id, province_code) NOT IN (SELECT * FROM internal))
    )) AS delivered,
    sum(quantity) AS net
FROM moves
GROUP BY day, province_code
ORDER BY day, province_code
