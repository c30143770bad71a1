-- Synthetic site register for the dashboards benchmark: the site ids the portal's dose fill
-- uses (S<province>-0 … S<province>-169), one in ten mobile, capacities 100-899 a day,
-- open 07:00-17:00 (mobile 08:00-16:00).
-- Parameters: db (Identifier), provinces (Array(String)), per_province (UInt32).
INSERT INTO {db:Identifier}.sites
    (site_id, name, province_code, site_type, daily_capacity, opens_minute, closes_minute, change_seq)
SELECT
    concat('S', province, '-', toString(n)) AS site_id,
    concat('Điểm tiêm ', province, '-', toString(n)),
    province,
    if(modulo(n, 10) = 9, 'mobile', 'fixed'),
    toUInt32(100 + modulo(cityHash64(site_id), 800)),
    if(modulo(n, 10) = 9, 480, 420),
    if(modulo(n, 10) = 9, 960, 1020),
    1
FROM (SELECT arrayJoin({provinces:Array(String)}) AS province) AS provinces
CROSS JOIN (SELECT number AS n FROM numbers({per_province:UInt32})) AS sites
