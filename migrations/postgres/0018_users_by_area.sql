-- A commune's staff found by their area: the dashboard's cadres' loads list the users of
-- the commune and its villages on every request, and without this index each list read
-- the whole province's users (thousands at 100 communes).
CREATE INDEX users_area ON users(area_id);
