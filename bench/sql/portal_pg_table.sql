-- PostgreSQL side of the comparison: the same doses (identifier, province, vaccine, dose
-- number, time), indexed on time as a registry would be. No parameters.
DROP TABLE IF EXISTS bench_doses;
CREATE UNLOGGED TABLE bench_doses (
    dose_id         text PRIMARY KEY,
    province_code   char(2) NOT NULL,
    vaccine_code    text NOT NULL,
    dose_number     smallint NOT NULL,
    administered_at timestamptz NOT NULL
)
