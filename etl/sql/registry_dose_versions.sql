-- The doses' superseded versions added after a checkpoint, in change order (runs on the
-- registry). The registry's table is append-only and written by its trigger on doses
-- (registry migration 0005); it holds no citizen. Parameters: after (the checkpoint's
-- change_seq).
SELECT dose_id, version, status, province_code, site_id, vaccine_code, dose_number,
       administered_at, recorded_at, superseded_at, change_seq
FROM dose_versions WHERE change_seq > :after ORDER BY change_seq
