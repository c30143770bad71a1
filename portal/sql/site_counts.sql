-- Vaccination sites that had given at least one (still valid) dose by the end of a local
-- day, per province. Parameters: db (Identifier), as_of (Date), provinces (Array(String);
-- empty: all).
SELECT province_code, count() AS sites
FROM
(
    SELECT province_code, site_id, sum(s.doses) AS doses
    FROM {db:Identifier}.site_hourly AS s
    WHERE hour < toDateTime({as_of:Date} + 1, 'Asia/Ho_Chi_Minh')
      AND (empty({provinces:Array(String)}) OR has({provinces:Array(String)}, province_code))
    GROUP BY province_code, site_id
    HAVING doses > 0
)
GROUP BY province_code
ORDER BY province_code
