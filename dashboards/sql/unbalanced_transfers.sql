-- Transfers whose two legs do not cancel (what left one store did not arrive at the other):
-- a discrepancy between the stock records. A provincial scope sees the transfers that touch
-- its province. The legs are summed per transfer first (cheap); the places and times only of
-- the few that do not cancel.
-- Parameters: db (Identifier), province (String, '' = every province).
WITH unbalanced AS (
    SELECT transfer_id, vaccine_code, lot_number
    FROM {db:Identifier}.stock_movements FINAL
    WHERE kind = 'transferred' AND transfer_id != 0
    GROUP BY transfer_id, vaccine_code, lot_number
    HAVING sum(quantity) != 0
       AND ({province:String} = '' OR countIf(province_code = {province:String}) > 0)
)
SELECT
    transfer_id,
    vaccine_code,
    lot_number,
    sum(quantity) AS difference,
    sumIf(quantity, quantity < 0) AS sent,
    sumIf(quantity, quantity > 0) AS received,
    arrayStringConcat(arraySort(groupUniqArray(if(site_id != '', site_id, if(province_code != '', province_code, level)))), ' / ') AS places,
    min(moved_at) AS first_moved_at
FROM {db:Identifier}.stock_movements FINAL
WHERE kind = 'transferred' AND transfer_id != 0
  AND (transfer_id, vaccine_code, lot_number) IN (SELECT * FROM unbalanced)
GROUP BY transfer_id, vaccine_code, lot_number
ORDER BY first_moved_at, transfer_id
