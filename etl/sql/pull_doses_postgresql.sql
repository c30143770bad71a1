-- One window of the registry's dose feed (doses with their citizens, registry migration 0002)
-- read straight from PostgreSQL by the warehouse into etl_raw, every field as text, the
-- position being the change_seq; instants written out in UTC with "Z". Parameters: db
-- (Identifier), host (String, host:port), database, user, password (String), after, until
-- (Int64).
INSERT INTO {db:Identifier}.etl_raw
    (position, dose_id, version, status, citizen_id, full_name, date_of_birth, sex, phone,
     province_code, site_id, vaccine_code, lot_number, dose_number, administered_at)
SELECT toUInt64(change_seq), dose_id, toString(version), status, citizen_id, full_name,
       toString(date_of_birth), sex, phone, province_code, site_id, vaccine_code, lot_number,
       toString(dose_number),
       concat(formatDateTime(administered_at, '%Y-%m-%dT%H:%i:%S', 'UTC'), 'Z')
FROM postgresql({host:String}, {database:String}, 'dose_feed', {user:String}, {password:String})
WHERE change_seq > {after:Int64} AND change_seq <= {until:Int64}
