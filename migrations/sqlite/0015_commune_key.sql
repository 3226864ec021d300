-- As migrations/postgres/0015_commune_key.sql. SQLite's triggers cannot change the row
-- being written, so the key is set just after it, in the same statement.
ALTER TABLE households ADD COLUMN commune_id TEXT;
UPDATE households SET commune_id = (SELECT parent_id FROM areas WHERE id = households.village_id);
CREATE INDEX households_commune ON households(commune_id, code);

ALTER TABLE movements ADD COLUMN commune_id TEXT;
ALTER TABLE assessments ADD COLUMN commune_id TEXT;
ALTER TABLE review_steps ADD COLUMN commune_id TEXT;
ALTER TABLE support_actions ADD COLUMN commune_id TEXT;
ALTER TABLE visits ADD COLUMN commune_id TEXT;
ALTER TABLE assignments ADD COLUMN commune_id TEXT;
UPDATE movements SET commune_id = (SELECT commune_id FROM households WHERE id = movements.household_id);
UPDATE assessments SET commune_id = (SELECT commune_id FROM households WHERE id = assessments.household_id);
UPDATE review_steps SET commune_id = (SELECT commune_id FROM households WHERE id = review_steps.household_id);
UPDATE support_actions SET commune_id = (SELECT commune_id FROM households WHERE id = support_actions.household_id);
UPDATE visits SET commune_id = (SELECT commune_id FROM households WHERE id = visits.household_id);
UPDATE assignments SET commune_id = (SELECT commune_id FROM households WHERE id = assignments.household_id);
CREATE INDEX movements_commune ON movements(commune_id, date);
CREATE INDEX assessments_commune ON assessments(commune_id, date);
CREATE INDEX review_steps_commune ON review_steps(commune_id, date);
CREATE INDEX support_commune ON support_actions(commune_id, delivered_date);
CREATE INDEX visits_commune ON visits(commune_id, date);
CREATE INDEX assignments_commune ON assignments(commune_id, from_date);

CREATE TRIGGER households_commune_insert AFTER INSERT ON households
BEGIN UPDATE households SET commune_id = (SELECT parent_id FROM areas WHERE id = NEW.village_id) WHERE id = NEW.id; END;
CREATE TRIGGER households_commune_update AFTER UPDATE OF village_id ON households
WHEN OLD.village_id IS NOT NEW.village_id
BEGIN UPDATE households SET commune_id = (SELECT parent_id FROM areas WHERE id = NEW.village_id) WHERE id = NEW.id; END;

CREATE TRIGGER movements_commune AFTER INSERT ON movements
BEGIN UPDATE movements SET commune_id = (SELECT commune_id FROM households WHERE id = NEW.household_id) WHERE id = NEW.id; END;
CREATE TRIGGER assessments_commune AFTER INSERT ON assessments
BEGIN UPDATE assessments SET commune_id = (SELECT commune_id FROM households WHERE id = NEW.household_id) WHERE id = NEW.id; END;
CREATE TRIGGER review_steps_commune AFTER INSERT ON review_steps
BEGIN UPDATE review_steps SET commune_id = (SELECT commune_id FROM households WHERE id = NEW.household_id) WHERE id = NEW.id; END;
CREATE TRIGGER support_commune AFTER INSERT ON support_actions
BEGIN UPDATE support_actions SET commune_id = (SELECT commune_id FROM households WHERE id = NEW.household_id) WHERE id = NEW.id; END;
CREATE TRIGGER visits_commune AFTER INSERT ON visits
BEGIN UPDATE visits SET commune_id = (SELECT commune_id FROM households WHERE id = NEW.household_id) WHERE id = NEW.id; END;
CREATE TRIGGER assignments_commune AFTER INSERT ON assignments
BEGIN UPDATE assignments SET commune_id = (SELECT commune_id FROM households WHERE id = NEW.household_id) WHERE id = NEW.id; END;

-- A household that changed commune carries its rows.
CREATE TRIGGER households_rows_commune AFTER UPDATE OF commune_id ON households
WHEN OLD.commune_id IS NOT NEW.commune_id
BEGIN
    UPDATE movements SET commune_id = NEW.commune_id WHERE household_id = NEW.id;
    UPDATE assessments SET commune_id = NEW.commune_id WHERE household_id = NEW.id;
    UPDATE review_steps SET commune_id = NEW.commune_id WHERE household_id = NEW.id;
    UPDATE support_actions SET commune_id = NEW.commune_id WHERE household_id = NEW.id;
    UPDATE visits SET commune_id = NEW.commune_id WHERE household_id = NEW.id;
    UPDATE assignments SET commune_id = NEW.commune_id WHERE household_id = NEW.id;
END;

-- A village moved to another commune carries its households (and they their rows).
CREATE TRIGGER areas_households_commune AFTER UPDATE OF parent_id ON areas
WHEN OLD.parent_id IS NOT NEW.parent_id
BEGIN UPDATE households SET commune_id = NEW.parent_id WHERE village_id = NEW.id; END;
