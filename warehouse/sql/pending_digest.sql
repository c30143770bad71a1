-- Rows and a content digest of ledger_pending (names the ledger insert's deduplication
-- token: the same rows give the same token). Parameters: db (Identifier).
SELECT count(), sum(cityHash64(tuple(*))) FROM {db:Identifier}.ledger_pending
