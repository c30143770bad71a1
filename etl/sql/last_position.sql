-- Where a source's committed batches end (0 when none). Parameters: db (Identifier), source (String).
SELECT max(position) FROM {db:Identifier}.etl_checkpoints WHERE source = {source:String}
