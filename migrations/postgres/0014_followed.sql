-- A household's last visit, the soonest next visit planned on that day, and whether it has
-- a plan (an item not dropped), kept on its row by every write of it
-- (`shared::projection::Followed`): a commune's assignment screen and dashboard read its
-- 8,000 household rows instead of joining every visit and plan item of the commune, which
-- PostgreSQL did by reading the whole province's visits once the province was large.
ALTER TABLE households ADD COLUMN last_visit TEXT;
ALTER TABLE households ADD COLUMN next_visit TEXT;
ALTER TABLE households ADD COLUMN has_plan BOOLEAN NOT NULL DEFAULT FALSE;

UPDATE households h SET
    last_visit = l.last,
    next_visit = (SELECT MIN(v.data::json->>'next_visit') FROM visits v
                  WHERE v.household_id = h.id AND v.date = l.last)
FROM (SELECT household_id, MAX(date) AS last FROM visits GROUP BY household_id) l
WHERE l.household_id = h.id;

UPDATE households h SET has_plan = TRUE
WHERE EXISTS (SELECT 1 FROM plan_items p WHERE p.household_id = h.id AND p.status <> 'dropped');
