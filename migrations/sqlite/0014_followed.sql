-- As migrations/postgres/0014_followed.sql.
ALTER TABLE households ADD COLUMN last_visit TEXT;
ALTER TABLE households ADD COLUMN next_visit TEXT;
ALTER TABLE households ADD COLUMN has_plan BOOLEAN NOT NULL DEFAULT 0;

UPDATE households SET last_visit = (SELECT MAX(v.date) FROM visits v WHERE v.household_id = households.id);
UPDATE households SET next_visit = (SELECT MIN(json_extract(v.data, '$.next_visit')) FROM visits v
    WHERE v.household_id = households.id AND v.date = households.last_visit)
WHERE last_visit IS NOT NULL;
UPDATE households SET has_plan = 1
WHERE EXISTS (SELECT 1 FROM plan_items p WHERE p.household_id = households.id AND p.status <> 'dropped');
