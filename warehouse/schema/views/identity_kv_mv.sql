-- identity_kv_mv: copies every insert into citizen_identity to its key-value copy
-- identity_kv (0016); a later insert replaces the row of its key, so the row loaded last
-- wins. Re-created when this text changes; identity_kv keeps its rows.

DROP VIEW IF EXISTS {{ local('identity_kv_mv') }} {{ on_cluster }} SYNC;

CREATE MATERIALIZED VIEW {{ local('identity_kv_mv') }} {{ on_cluster }}
TO {{ local('identity_kv') }} AS
SELECT citizen_key, full_name, date_of_birth, sex, phone_hash, updated_at
FROM {{ local('citizen_identity') }};
