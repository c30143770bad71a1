-- How many doses wait after a checkpoint, and the highest change_seq among them
-- (read by the warehouse from the PostgreSQL registry). Parameters: host, database, user,
-- password (String), after (Int64).
SELECT count(), max(change_seq)
FROM postgresql({host:String}, {database:String}, 'doses', {user:String}, {password:String})
WHERE change_seq > {after:Int64}
