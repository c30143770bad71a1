-- Registry rows the ETL refused (stream and repairs): their change sequence numbers.
-- Parameters: db (Identifier), source (String), repairs (String: repair source prefix),
-- upto (UInt64). A conflicting_version refusal is not the row's fault: the warehouse holds
-- other content at that version, a difference to find, so it is not listed.
SELECT DISTINCT toUInt64OrZero(position) AS seq
FROM {db:Identifier}.etl_rejects
WHERE (source = {source:String} OR startsWith(source, {repairs:String}))
  AND reason != 'conflicting_version'
  AND toUInt64OrZero(position) BETWEEN 1 AND {upto:UInt64}
