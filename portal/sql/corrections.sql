-- Citizens' correction requests counted for the public backlog (portal/backlog.py): each
-- province and the country ('VN') over the whole span (period 1970-01-01), and the country
-- per local month (period: the month's first day). received: filed in the period;
-- approved, rejected: resolved so in the period; median_days: the median days from filing
-- to resolution of those resolved in the period (quantileExactInclusive: the mean of the
-- two middle values for an even count; NaN when none). A request counts in its month of
-- filing and, once resolved, in its month of resolution. Reads the latest state of each
-- request (FINAL). Parameters: db (Identifier).
WITH events AS (
    SELECT province_code, toStartOfMonth(filed_at) AS month, 'received' AS event,
           0.0 AS days
    FROM {db:Identifier}.correction_requests FINAL
    UNION ALL
    SELECT province_code, toStartOfMonth(assumeNotNull(resolved_at)), status,
           dateDiff('millisecond', filed_at, assumeNotNull(resolved_at)) / 86400000.0
    FROM {db:Identifier}.correction_requests FINAL
    WHERE status IN ('approved', 'rejected') AND resolved_at IS NOT NULL
)
SELECT cell.1 AS area_code, cell.2 AS period,
       countIf(event = 'received') AS received,
       countIf(event = 'approved') AS approved,
       countIf(event = 'rejected') AS rejected,
       quantileExactInclusiveIf(0.5)(days, event != 'received') AS median_days
FROM events
ARRAY JOIN [(province_code, toDate(0)), ('VN', toDate(0)), ('VN', month)] AS cell
GROUP BY area_code, period
ORDER BY area_code, period
