-- The opening of checkin_waits.sql and funnel.sql, which continue its WITH list
-- (dashboards.reads.Read.opening):
--   scope_sites: the registered sites in scope, with their province;
--   given: the live doses in [start, stop), one row per day, site, citizen and time. From
--     dose_visits (sum of the ledger's signs over valid states, so exact under corrections
--     and voids; ordered by day, so the window is a range of its key), not from the ledger,
--     ordered by dose_id.
-- Parameters: db (Identifier), province (String, '' = every province),
--             start, stop (DateTime('Asia/Ho_Chi_Minh')).
WITH
    scope_sites AS (
        SELECT site_id, province_code FROM {db:Identifier}.sites FINAL
        WHERE {province:String} = '' OR province_code = {province:String}
    ),
    given AS (
        SELECT citizen_key, site_id, administered_at, day
        FROM {db:Identifier}.dose_visits
        WHERE day >= toDate({start:DateTime('Asia/Ho_Chi_Minh')})
          AND day <= toDate({stop:DateTime('Asia/Ho_Chi_Minh')})
          AND administered_at >= {start:DateTime('Asia/Ho_Chi_Minh')}
          AND administered_at < {stop:DateTime('Asia/Ho_Chi_Minh')}
          AND ({province:String} = '' OR province_code = {province:String})
        GROUP BY day, province_code, site_id, citizen_key, administered_at
        HAVING sum(doses) > 0
    )
