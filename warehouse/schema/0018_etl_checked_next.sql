-- etl_checked_next: a second etl_checked (0011), so that the next batch is checked while
-- this one is written; etl.files.load_batches alternates the two. The same structure and
-- engine: Memory, one batch at a time, emptied once its batch is written, no raw CCCD or
-- phone (the keyed hashes only). Scratch of the one loader, like the first.

CREATE TABLE IF NOT EXISTS {{ db }}.etl_checked_next {{ on_cluster }} AS {{ db }}.etl_checked;
