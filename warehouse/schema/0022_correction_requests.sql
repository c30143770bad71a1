-- correction_requests: citizens' requests to correct their vaccination record (a missing
-- dose, a dose that is not theirs, a wrong name, date of birth or sex), streamed from the
-- registry's table of the same name by etl/operations.py with its own checkpoint (source
-- registry:correction_requests), like the sites.
--
-- Only what the public backlog needs: the request's number, its kind, the province whose
-- officials handle it, its state and when it was filed and resolved. Nothing personal: no
-- citizen, reference, claim, dose, reason or official (the registry keeps those; the ETL's
-- query does not select them).
--
-- How it is queried: the portal's corrections page and the open-data API's
-- /api/v1/corrections read the whole table (FINAL) once per data version and count it by
-- province and local month of filing and of resolution (portal/sql/corrections.sql). A
-- request is filed once and resolved at most once, so the table holds about one row per
-- request (two when the ETL streamed it open and again resolved). ReplacingMergeTree by
-- change_seq keeps the latest state of each request; ORDER BY request_id, the registry's
-- key, since that is what a newer state replaces (a request's province never changes). Not
-- partitioned: requests are few beside the doses.

CREATE TABLE IF NOT EXISTS {{ local('correction_requests') }} {{ on_cluster }}
(
    request_id    UInt64,
    kind          LowCardinality(String),
    province_code LowCardinality(String),
    status        LowCardinality(String),
    filed_at      DateTime64(3, 'Asia/Ho_Chi_Minh'),
    resolved_at   Nullable(DateTime64(3, 'Asia/Ho_Chi_Minh')),
    change_seq    UInt64
)
ENGINE = {{ engine('ReplacingMergeTree', 'change_seq') }}
ORDER BY request_id
SETTINGS non_replicated_deduplication_window = 10000;

{{ distributed('correction_requests', 'cityHash64(request_id)') }}
