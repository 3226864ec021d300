-- The commune key written by the statements that write a row (migration 0015 kept it by
-- triggers alone, each insert followed by an update of the row it wrote). The read model's
-- statements and the import now write the key themselves, and the triggers only fill a
-- key a writer left out. A household's or village's move still carries the key.

DROP TRIGGER households_commune_insert;
CREATE TRIGGER households_commune_insert AFTER INSERT ON households
WHEN NEW.commune_id IS NULL
BEGIN UPDATE households SET commune_id = (SELECT parent_id FROM areas WHERE id = NEW.village_id) WHERE id = NEW.id; END;

DROP TRIGGER movements_commune;
DROP TRIGGER assessments_commune;
DROP TRIGGER review_steps_commune;
DROP TRIGGER support_commune;
DROP TRIGGER visits_commune;
DROP TRIGGER assignments_commune;
CREATE TRIGGER movements_commune AFTER INSERT ON movements WHEN NEW.commune_id IS NULL
BEGIN UPDATE movements SET commune_id = (SELECT commune_id FROM households WHERE id = NEW.household_id) WHERE id = NEW.id; END;
CREATE TRIGGER assessments_commune AFTER INSERT ON assessments WHEN NEW.commune_id IS NULL
BEGIN UPDATE assessments SET commune_id = (SELECT commune_id FROM households WHERE id = NEW.household_id) WHERE id = NEW.id; END;
CREATE TRIGGER review_steps_commune AFTER INSERT ON review_steps WHEN NEW.commune_id IS NULL
BEGIN UPDATE review_steps SET commune_id = (SELECT commune_id FROM households WHERE id = NEW.household_id) WHERE id = NEW.id; END;
CREATE TRIGGER support_commune AFTER INSERT ON support_actions WHEN NEW.commune_id IS NULL
BEGIN UPDATE support_actions SET commune_id = (SELECT commune_id FROM households WHERE id = NEW.household_id) WHERE id = NEW.id; END;
CREATE TRIGGER visits_commune AFTER INSERT ON visits WHEN NEW.commune_id IS NULL
BEGIN UPDATE visits SET commune_id = (SELECT commune_id FROM households WHERE id = NEW.household_id) WHERE id = NEW.id; END;
CREATE TRIGGER assignments_commune AFTER INSERT ON assignments WHEN NEW.commune_id IS NULL
BEGIN UPDATE assignments SET commune_id = (SELECT commune_id FROM households WHERE id = NEW.household_id) WHERE id = NEW.id; END;
