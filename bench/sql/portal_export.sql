-- The first doses of the benchmark ledger as tab-separated rows for PostgreSQL's COPY
-- (administered_at with its +07 offset). Parameters: db (Identifier), count (UInt64).
SELECT dose_id, province_code, vaccine_code, dose_number,
       concat(formatDateTime(administered_at, '%Y-%m-%d %H:%i:%S'), '+07')
FROM {db:Identifier}.dose_ledger
WHERE dose_id < concat('bench-', leftPad(toString({count:UInt64}), 12, '0'))
FORMAT TabSeparated
