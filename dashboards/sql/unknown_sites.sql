-- Sites that doses name but the site register (vax.sites) does not know, e.g. from file
-- drops of a provincial system: doses and the last hour seen (site_doses: one row per site,
-- where site_hourly would be a scan of every site-hour of the campaign).
-- Parameters: db (Identifier), province (String, '' = every province).
SELECT province_code, site_id, sum(doses) AS doses, max(last_hour) AS last_hour
FROM {db:Identifier}.site_doses
WHERE ({province:String} = '' OR province_code = {province:String})
  AND site_id NOT IN (SELECT site_id FROM {db:Identifier}.sites FINAL)
GROUP BY province_code, site_id
HAVING doses != 0
ORDER BY doses DESC, province_code, site_id
