-- Site × product pairs with at least one stock movement in [start, stop) ("active"), and
-- how many of those hold no stock at `stop` (the sum of all their movements before `stop`,
-- every lot, is zero or less): the officials' summary's stock-outs now. One scan of the
-- sites' movements before `stop`, grouped per pair.
-- dashboards.summary.site_products is the reference for these rules.
-- Parameters: db (Identifier), province (String, '' = every province),
--             start, stop (DateTime('Asia/Ho_Chi_Minh')).
SELECT count() AS active, countIf(on_hand <= 0) AS stock_outs
FROM (
    SELECT province_code, site_id, vaccine_code, sum(quantity) AS on_hand
    FROM {db:Identifier}.stock_movements FINAL
    WHERE level = 'site'
      AND moved_at < {stop:DateTime('Asia/Ho_Chi_Minh')}
      AND ({province:String} = '' OR province_code = {province:String})
    GROUP BY province_code, site_id, vaccine_code
    HAVING max(moved_at) >= {start:DateTime('Asia/Ho_Chi_Minh')}
)
