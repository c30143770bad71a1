-- The applied repeatable schema files (warehouse/schema/views/), one row each: name and the
-- checksum of the text last applied. Parameters: db (Identifier).
SELECT name, argMax(checksum, applied_at) AS checksum
FROM {db:Identifier}.schema_repeatables
GROUP BY name
ORDER BY name
