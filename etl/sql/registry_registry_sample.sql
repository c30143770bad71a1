-- The registry's sample fraction (registry/sample.py) when it changed after a checkpoint: one
-- row in a simulated registry, none in a real one (runs on the registry).
-- Parameters: after (the checkpoint's change_seq).
SELECT id, fraction, simulated, description, recorded_at, change_seq
FROM registry_sample WHERE change_seq > :after ORDER BY change_seq
