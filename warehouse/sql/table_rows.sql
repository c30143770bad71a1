-- Row counts of the schema's stored tables (from table metadata: no scan).
-- Parameters: db (Identifier; its name is also matched as a String).
SELECT name, total_rows
FROM system.tables
WHERE database = {db:String} AND total_rows IS NOT NULL
ORDER BY name
