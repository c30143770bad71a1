-- Live doses administered in [start, stop), in one province or everywhere: the officials'
-- summary asks for the 24 h up to its "now" (GET /internal/api/v1/summary). From
-- dose_visits, ordered by day: the window is a range of its key (two days), and the signed
-- rows sum to the live doses (a correction moves its +1, a void nets to 0).
-- Parameters: db (Identifier), province (String, '' = every province),
--             start, stop (DateTime('Asia/Ho_Chi_Minh')).
SELECT sum(doses) AS doses
FROM {db:Identifier}.dose_visits
WHERE day >= toDate({start:DateTime('Asia/Ho_Chi_Minh')})
  AND day <= toDate({stop:DateTime('Asia/Ho_Chi_Minh')})
  AND administered_at >= {start:DateTime('Asia/Ho_Chi_Minh')}
  AND administered_at < {stop:DateTime('Asia/Ho_Chi_Minh')}
  AND ({province:String} = '' OR province_code = {province:String})
