-- registry_sample: the share of the country the registry's data stands for (its sample
-- fraction), streamed from the registry's table of the same name by etl/operations.py with
-- its own checkpoint (source registry:registry_sample), like the sites.
--
-- A seeded registry records its scale (0.01: 1 % of the campaign's doses, first doses and
-- sites) and says it is simulated; a real registry records nothing, and an empty table means
-- the whole country (fraction 1, not simulated). Every denominator of the portal and the
-- open-data API is the census population × this fraction.
--
-- How it is queried: once per data version, the whole table (warehouse/sample.py:
-- argMax by change_seq, or FINAL). One row at most (the registry's id = 1); ORDER BY id, and
-- ReplacingMergeTree by change_seq keeps the latest record. Not partitioned: one row.

CREATE TABLE IF NOT EXISTS {{ local('registry_sample') }} {{ on_cluster }}
(
    id          UInt8,
    fraction    Float64,
    simulated   Bool,
    description String,
    recorded_at DateTime64(3, 'Asia/Ho_Chi_Minh'),
    change_seq  UInt64
)
ENGINE = {{ engine('ReplacingMergeTree', 'change_seq') }}
ORDER BY id
SETTINGS non_replicated_deduplication_window = 10000;

{{ distributed('registry_sample', 'id') }}
