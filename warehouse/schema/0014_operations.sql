-- The registry's operational records beside the doses: vaccination sites, stock movements,
-- app registrations and desk check-ins (etl/operations.py streams them by change_seq).
--
-- How they are queried: by the internal dashboards, per site, province, product and day
-- (each table's ORDER BY below says which). Each table keeps the latest version of each
-- registry row: ReplacingMergeTree with the
-- row's change_seq as version, ORDER BY the registry's id, so a row changed in the
-- registry (a registration attended or cancelled, a site's capacity) replaces its earlier
-- copy at merge time; read with FINAL (or argMax by change_seq) for exact answers. They are
-- small beside the doses (about one stock row per site per product and month, ~0.4
-- registrations and one check-in per dose). Citizens appear only as citizen_key (the same
-- keyed hash as the dose facts). Not partitioned: sizes stay in the millions.

CREATE TABLE IF NOT EXISTS {{ local('sites') }} {{ on_cluster }}
(
    site_id        String,
    name           String,
    province_code  LowCardinality(String),
    site_type      LowCardinality(String),
    daily_capacity UInt32,
    opens_minute   UInt16,
    closes_minute  UInt16,
    change_seq     UInt64
)
ENGINE = {{ engine('ReplacingMergeTree', 'change_seq') }}
ORDER BY site_id
SETTINGS non_replicated_deduplication_window = 10000;

{{ distributed('sites', 'cityHash64(site_id)') }}

-- stock_movements: one signed change of stock at one place (+ in, - out); stock on hand at a
-- place = sum(quantity) per product and lot. Queried by level/place/product/lot and by day,
-- hence ORDER BY (level, province_code, site_id, vaccine_code, lot_number, movement_id).

CREATE TABLE IF NOT EXISTS {{ local('stock_movements') }} {{ on_cluster }}
(
    movement_id   UInt64,
    kind          LowCardinality(String),
    level         LowCardinality(String),
    province_code LowCardinality(String),
    site_id       LowCardinality(String),
    vaccine_code  LowCardinality(String),
    lot_number    String,
    expiry_date   Date,
    quantity      Int64,
    moved_at      DateTime64(3, 'Asia/Ho_Chi_Minh'),
    transfer_id   UInt64,
    change_seq    UInt64
)
ENGINE = {{ engine('ReplacingMergeTree', 'change_seq') }}
ORDER BY (level, province_code, site_id, vaccine_code, lot_number, movement_id)
SETTINGS non_replicated_deduplication_window = 10000;

{{ distributed('stock_movements', 'cityHash64(province_code)') }}

-- registrations: a booking from the phone app (status booked / attended / cancelled /
-- no_show, updated in place in the registry). Queried per site and day: ORDER BY
-- (site_id, registration_id).

CREATE TABLE IF NOT EXISTS {{ local('registrations') }} {{ on_cluster }}
(
    registration_id UInt64,
    citizen_key     String,
    site_id         LowCardinality(String),
    slot_start      DateTime64(3, 'Asia/Ho_Chi_Minh'),
    registered_at   DateTime64(3, 'Asia/Ho_Chi_Minh'),
    status          LowCardinality(String),
    change_seq      UInt64
)
ENGINE = {{ engine('ReplacingMergeTree', 'change_seq') }}
ORDER BY (site_id, registration_id)
SETTINGS non_replicated_deduplication_window = 10000;

{{ distributed('registrations', 'cityHash64(citizen_key)') }}

-- checkins: a QR scan at a site's desk, minutes before the dose. Queried per site and hour
-- (throughput, check-in to vaccination time): ORDER BY (site_id, scanned_at, checkin_id).

CREATE TABLE IF NOT EXISTS {{ local('checkins') }} {{ on_cluster }}
(
    checkin_id  UInt64,
    citizen_key String,
    site_id     LowCardinality(String),
    scanned_at  DateTime64(3, 'Asia/Ho_Chi_Minh'),
    change_seq  UInt64
)
ENGINE = {{ engine('ReplacingMergeTree', 'change_seq') }}
ORDER BY (site_id, scanned_at, checkin_id)
SETTINGS non_replicated_deduplication_window = 10000;

{{ distributed('checkins', 'cityHash64(citizen_key)') }}

-- etl_ops_raw: scratch for one batch of registry rows whose citizen_id must become a
-- citizen key before it is stored (registrations, check-ins); in memory, emptied after each
-- batch, like etl_raw.

CREATE TABLE IF NOT EXISTS {{ db }}.etl_ops_raw {{ on_cluster }}
(
    row_id     UInt64,
    citizen_id String,
    site_id    String,
    at_1       DateTime64(3, 'UTC'),
    at_2       Nullable(DateTime64(3, 'UTC')),
    status     String,
    change_seq UInt64
)
ENGINE = Memory;
