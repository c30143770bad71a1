-- Stock-out days per site and product in use: days among the `days` days from `first` whose
-- closing balance was zero or less, counted from the site's first movement of the product;
-- with the balance at the end (only sites with at least one such day). In use: the site
-- moved the product in the `in_use` days up to the window's end (a product it stopped
-- giving long ago is not out of stock there; an ongoing stock-out still is). The movements of a site and
-- product, sorted by day, each open a segment that keeps the running balance until the next
-- movement (same-day movements make empty segments, so the last one of a day carries its
-- closing balance): a key costs its number of movements, not the window's length.
-- dashboards.stock.stock_out_days is the reference for these rules.
-- Parameters: db (Identifier), province (String, '' = every province), first (Date),
--             days (UInt32), in_use (UInt32).
SELECT province_code, site_id, vaccine_code, stock_out_days, on_hand
FROM (
    SELECT
        province_code, site_id, vaccine_code,
        arraySort(x -> x.1, groupArray((toDate(moved_at), quantity))) AS moves,
        arrayMap(m -> m.1, moves) AS starts,
        arrayPushBack(arrayPopFront(starts), {first:Date} + {days:UInt32}) AS ends,
        arrayCumSum(arrayMap(m -> m.2, moves)) AS balances,
        arraySum(arrayMap(
            (s, e, b) -> if(b <= 0, greatest(0, dateDiff('day', greatest(s, {first:Date}), e)), 0),
            starts, ends, balances)) AS stock_out_days,
        sum(quantity) AS on_hand,
        max(moved_at) AS last_moved
    FROM {db:Identifier}.stock_movements FINAL
    WHERE level = 'site'
      AND moved_at < toDateTime({first:Date} + {days:UInt32}, 'Asia/Ho_Chi_Minh')
      AND ({province:String} = '' OR province_code = {province:String})
    GROUP BY province_code, site_id, vaccine_code
)
WHERE stock_out_days > 0
  AND last_moved >= toDateTime({first:Date} + {days:UInt32} - {in_use:UInt32}, 'Asia/Ho_Chi_Minh')
ORDER BY stock_out_days DESC, province_code, site_id, vaccine_code
