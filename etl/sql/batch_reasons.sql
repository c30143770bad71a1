-- Refused rows of the checked batch, per reason. Parameters: db, checked (Identifier: the batch's etl_checked table).
SELECT reason, count() FROM {db:Identifier}.{checked:Identifier} WHERE reason != '' GROUP BY reason
