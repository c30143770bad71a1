-- Refused rows of the checked batch, per reason. Parameters: db (Identifier).
SELECT reason, count() FROM {db:Identifier}.etl_checked WHERE reason != '' GROUP BY reason
