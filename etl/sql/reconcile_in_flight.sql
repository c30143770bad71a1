-- Doses changed after the stream's checkpoint (not in the warehouse yet).
-- Parameters: upto (change_seq).
SELECT dose_id FROM doses WHERE change_seq > :upto
