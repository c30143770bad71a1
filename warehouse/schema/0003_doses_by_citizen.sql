-- doses_by_citizen: the dose ledger's signed rows again, ordered by citizen.
--
-- How it is queried: "all doses of this person" (certificate status and lookup, the QR
-- check at the site) must be a primary-key read, so ORDER BY (citizen_key, dose_id); the
-- contract view vax.doses_current reads this table with FINAL. A materialized view copies
-- every row inserted into dose_ledger (cancel rows included), so both tables always hold
-- the same states; insert deduplication covers the copy too. `AS dose_ledger` takes its
-- columns and its yearly partitions, so one person's doses span at most a few partitions.

CREATE TABLE IF NOT EXISTS {{ local('doses_by_citizen') }} {{ on_cluster }}
AS {{ local('dose_ledger') }}
ENGINE = {{ engine('VersionedCollapsingMergeTree', 'sign', 'version') }}
ORDER BY (citizen_key, dose_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS {{ local('doses_by_citizen_mv') }} {{ on_cluster }}
TO {{ local('doses_by_citizen') }} AS
SELECT * FROM {{ local('dose_ledger') }};

{{ distributed('doses_by_citizen', 'cityHash64(citizen_key)') }}
