-- Citizens' correction requests changed after a checkpoint, in change order (runs on the
-- registry). Only the columns the public backlog needs: never the citizen, the reference,
-- the claim, the dose, the reason or the official who resolved it (personal data stays in
-- the registry). Parameters: after (the checkpoint's change_seq).
SELECT request_id, kind, province_code, status, filed_at, resolved_at, change_seq
FROM correction_requests WHERE change_seq > :after ORDER BY change_seq
