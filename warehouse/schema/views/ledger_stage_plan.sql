-- ledger_stage_plan: what writing the staged batch (ledger_stage) does, one row per staged
-- dose_id (doses whose every staged version conflicts are left out): the winning staged
-- state (highest version among versions staged with one content), the stored state
-- (stored_version 0 when none) and the outcome — 'new', 'changed' (newer version: cancel the
-- stored state, add this one), 'conflict' (same version as stored, other content) or
-- 'stale' (older, or the same). The SQL twin of warehouse.ledger.plan_ledger_rows, whose unit
-- tests state the rules; the integration tests run both. The work is only where it is
-- needed: a dose_id staged once is its own winner; only dose_ids staged more than once
-- (rare: a batch holding a dose and its correction, or duplicates) go through the
-- per-version agreement check, the highest clean version and the join.

CREATE OR REPLACE VIEW {{ db }}.ledger_stage_plan {{ on_cluster }} AS
WITH
    staged AS (
        SELECT *,
               cityHash64(toString(status), citizen_key, birth_year, toString(sex),
                          toString(province_code), toString(site_id), toString(vaccine_code),
                          lot_number, dose_number, administered_at) AS content
        FROM {{ db }}.ledger_stage
    ),
    repeated AS (
        SELECT dose_id FROM {{ db }}.ledger_stage GROUP BY dose_id HAVING count() > 1
    ),
    clean_versions AS (
        SELECT dose_id, version FROM staged
        WHERE dose_id IN repeated
        GROUP BY dose_id, version
        HAVING min(content) = max(content)
    ),
    winners AS (
        SELECT dose_id, max(version) AS version FROM clean_versions GROUP BY dose_id
    ),
    incoming AS (
        SELECT * FROM staged WHERE dose_id NOT IN repeated
        UNION ALL
        SELECT * FROM (
            SELECT s.* FROM staged AS s
            INNER JOIN winners AS w ON s.dose_id = w.dose_id AND s.version = w.version
            ORDER BY s.dose_id
            LIMIT 1 BY s.dose_id
        )
    ),
    stored AS (
        SELECT dose_id, version AS stored_version, status AS stored_status,
               citizen_key AS stored_citizen_key, birth_year AS stored_birth_year,
               sex AS stored_sex, province_code AS stored_province_code,
               site_id AS stored_site_id, vaccine_code AS stored_vaccine_code,
               lot_number AS stored_lot_number, dose_number AS stored_dose_number,
               administered_at AS stored_administered_at, recorded_at AS stored_recorded_at,
               source AS stored_source,
               cityHash64(toString(status), citizen_key, birth_year, toString(sex),
                          toString(province_code), toString(site_id), toString(vaccine_code),
                          lot_number, dose_number, administered_at) AS stored_content
        FROM {{ table('dose_ledger') }} FINAL
        WHERE sign = 1 AND dose_id IN (SELECT dose_id FROM {{ db }}.ledger_stage)
    )
SELECT
    i.*,
    st.* EXCEPT (dose_id),
    multiIf(
        st.stored_version = 0, 'new',
        i.version > st.stored_version, 'changed',
        i.version = st.stored_version AND i.content != st.stored_content, 'conflict',
        'stale'
    ) AS outcome
FROM incoming AS i
LEFT JOIN stored AS st ON st.dose_id = i.dose_id
SETTINGS join_use_nulls = 0;

-- ledger_plan: ledger_stage_plan materialised once per batch (the counts, the conflicts and
-- the signed insert all read it, instead of evaluating the view three times). Memory
-- scratch, like ledger_stage: emptied before every batch; shaped by the view, so it is
-- re-created with it.

DROP TABLE IF EXISTS {{ db }}.ledger_plan {{ on_cluster }} SYNC;

CREATE TABLE {{ db }}.ledger_plan {{ on_cluster }}
ENGINE = Memory
EMPTY AS SELECT * FROM {{ db }}.ledger_stage_plan;
