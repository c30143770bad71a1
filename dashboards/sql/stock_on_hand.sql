-- Stock on hand at the end of the day before `stop`, per level, place, product and lot
-- (rows with stock != 0). For the whole country the sites of a province are summed into one
-- row (level 'site', site_id ''); a province's scope lists each site. A provincial scope sees
-- its province's store and sites (national rows have no province).
-- Parameters: db (Identifier), province (String, '' = every level and province),
--             stop (DateTime('Asia/Ho_Chi_Minh')).
SELECT
    level,
    province_code,
    if({province:String} = '', '', site_id) AS place,
    vaccine_code,
    lot_number,
    expiry_date,
    sum(quantity) AS quantity
FROM {db:Identifier}.stock_movements FINAL
WHERE moved_at < {stop:DateTime('Asia/Ho_Chi_Minh')}
  AND ({province:String} = '' OR province_code = {province:String})
GROUP BY level, province_code, place, vaccine_code, lot_number, expiry_date
HAVING quantity != 0
ORDER BY level, province_code, place, vaccine_code, lot_number
