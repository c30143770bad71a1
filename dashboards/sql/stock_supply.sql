-- Days of supply inputs per place and product: stock on hand before `stop` and the doses
-- consumed (administered + wasted) in [start, stop) by the sites the place serves (a site:
-- itself; a province store: the province's sites; the national store: every site). For the
-- whole country a province's sites are summed into one row (level 'site', site_id '').
-- One scan of the movements: per level, place and product both sums; then the consumption
-- rolled up per place (site), province and nation by GROUPING SETS over those few rows, and
-- each roll-up set beside the stock it serves (g: which columns a row was grouped by).
-- dashboards.stock.days_of_supply is the reference for these rules.
-- Parameters: db (Identifier), province (String, '' = every level and province),
--             start, stop (DateTime('Asia/Ho_Chi_Minh')).
SELECT target_level AS level, target_province AS province_code, target_place AS place,
       vaccine_code, sum(held) AS on_hand, sum(served) AS used_7d
FROM (
    SELECT
        grouping(level, province_code, place, vaccine_code) AS g,
        multiIf(g = 0, level, g = 8, 'site', g = 10, 'province', 'national') AS target_level,
        if(g = 14, '', province_code) AS target_province,
        if(g IN (0, 8), place, '') AS target_place,
        vaccine_code,
        if(g = 0, sum(on_hand), 0) AS held,
        if(g = 0, 0, sum(used)) AS served
    FROM (
        SELECT level, province_code, if({province:String} = '', '', site_id) AS place, vaccine_code,
               sum(quantity) AS on_hand,
               -sumIf(quantity, kind IN ('administered', 'wasted')
                      AND moved_at >= {start:DateTime('Asia/Ho_Chi_Minh')}) AS used
        FROM {db:Identifier}.stock_movements FINAL
        WHERE moved_at < {stop:DateTime('Asia/Ho_Chi_Minh')}
          AND ({province:String} = '' OR province_code = {province:String})
        GROUP BY level, province_code, place, vaccine_code
    )
    GROUP BY GROUPING SETS (
        (level, province_code, place, vaccine_code),
        (province_code, place, vaccine_code),
        (province_code, vaccine_code),
        (vaccine_code)
    )
)
GROUP BY target_level, target_province, target_place, vaccine_code
HAVING on_hand != 0
ORDER BY level, province_code, place, vaccine_code
