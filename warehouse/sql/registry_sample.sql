-- The registry's sample fraction as the warehouse holds it: the latest record (by change_seq)
-- and how many rows there are (0: a real registry, the whole country).
-- Parameters: db (Identifier).
SELECT argMax(fraction, change_seq) AS fraction,
       argMax(simulated, change_seq) AS simulated,
       argMax(description, change_seq) AS description,
       count() AS records
FROM {db:Identifier}.registry_sample
