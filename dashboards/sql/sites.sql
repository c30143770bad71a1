-- The vaccination sites (latest registry version), in one province or everywhere.
-- Parameters: db (Identifier), province (String, '' = every province).
SELECT site_id, name, province_code, site_type, daily_capacity, opens_minute, closes_minute
FROM {db:Identifier}.sites FINAL
WHERE {province:String} = '' OR province_code = {province:String}
ORDER BY province_code, site_id
