-- Synthetic stock ledger for the dashboards benchmark over the `days` days ending `last`:
-- each site receives each product from its province store on the first day (1,000 doses,
-- one of seven lots per product, each expiring 20-170 days after `last`) and uses 0-39 doses a day (one in
-- fifty days a dose wasted); the province stores get the transfers' other legs.
-- Parameters: db (Identifier), last (Date), days (UInt32), vaccines (Array(String)).
INSERT INTO {db:Identifier}.stock_movements
    (movement_id, kind, level, province_code, site_id, vaccine_code, lot_number, expiry_date,
     quantity, moved_at, transfer_id, change_seq)
WITH
    movement.1 AS kind,
    movement.2 AS level,
    movement.3 AS quantity,
    s.site_id AS site,
    cityHash64(site, vaccine) AS seed,
    toDateTime64({last:Date} - {days:UInt32} + 1, 3, 'Asia/Ho_Chi_Minh') + toIntervalHour(8) AS start
SELECT
    cityHash64(site, vaccine, day, kind, level) AS id,
    kind,
    level,
    s.province_code,
    if(level = 'site', site, ''),
    vaccine,
    concat('LOT-', substring(vaccine, 1, 4), '-', toString(modulo(seed, 7))),
    {last:Date} + toIntervalDay(20 + 25 * modulo(seed, 7)),
    quantity,
    start + toIntervalDay(day) + toIntervalHour(if(kind = 'transferred', 0, 9)),
    if(kind = 'transferred', seed, 0),
    1
FROM (SELECT site_id, province_code FROM {db:Identifier}.sites FINAL) AS s
ARRAY JOIN {vaccines:Array(String)} AS vaccine
ARRAY JOIN range({days:UInt32}) AS day
ARRAY JOIN
    [
        tuple('transferred', 'site', if(day = 0, 1000, 0)),
        tuple('transferred', 'province', if(day = 0, -1000, 0)),
        tuple('administered', 'site', -toInt64(modulo(cityHash64(seed, day), 40))),
        tuple('wasted', 'site', -toInt64(modulo(cityHash64(seed, day, 1), 50) = 0))
    ] AS movement
WHERE quantity != 0
