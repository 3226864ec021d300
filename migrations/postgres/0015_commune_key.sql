-- The commune key: each household, and each row of the tables a commune's screens and
-- reports read (movements, assessments, review steps, support, visits, assignments), carries its
-- commune, indexed. A commune's question then reads its own rows by one index range,
-- whatever the size of the province — not a list of village ids joined to the province's
-- households, which PostgreSQL answered by reading every row of the province once the
-- province was large (a hash join over 800,000 movements behind one dashboard).
--
-- The database keeps it, so no door that writes a row can forget it: a household takes
-- its village's commune when written, a row its household's; a household moved to a
-- village of another commune, or a village moved to another commune, carries its rows.

ALTER TABLE households ADD COLUMN commune_id TEXT;
UPDATE households h SET commune_id = a.parent_id FROM areas a WHERE a.id = h.village_id;
CREATE INDEX households_commune ON households(commune_id, code);

ALTER TABLE movements ADD COLUMN commune_id TEXT;
ALTER TABLE assessments ADD COLUMN commune_id TEXT;
ALTER TABLE review_steps ADD COLUMN commune_id TEXT;
ALTER TABLE support_actions ADD COLUMN commune_id TEXT;
ALTER TABLE visits ADD COLUMN commune_id TEXT;
ALTER TABLE assignments ADD COLUMN commune_id TEXT;
UPDATE movements t SET commune_id = h.commune_id FROM households h WHERE h.id = t.household_id;
UPDATE assessments t SET commune_id = h.commune_id FROM households h WHERE h.id = t.household_id;
UPDATE review_steps t SET commune_id = h.commune_id FROM households h WHERE h.id = t.household_id;
UPDATE support_actions t SET commune_id = h.commune_id FROM households h WHERE h.id = t.household_id;
UPDATE visits t SET commune_id = h.commune_id FROM households h WHERE h.id = t.household_id;
UPDATE assignments t SET commune_id = h.commune_id FROM households h WHERE h.id = t.household_id;
CREATE INDEX movements_commune ON movements(commune_id, date);
CREATE INDEX assessments_commune ON assessments(commune_id, date);
CREATE INDEX review_steps_commune ON review_steps(commune_id, date);
CREATE INDEX support_commune ON support_actions(commune_id, delivered_date);
CREATE INDEX visits_commune ON visits(commune_id, date);
CREATE INDEX assignments_commune ON assignments(commune_id, from_date);

CREATE FUNCTION household_commune() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.commune_id := (SELECT parent_id FROM areas WHERE id = NEW.village_id);
    RETURN NEW;
END
$$;
CREATE TRIGGER households_commune BEFORE INSERT OR UPDATE OF village_id ON households
FOR EACH ROW EXECUTE FUNCTION household_commune();

CREATE FUNCTION row_commune() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.commune_id := (SELECT commune_id FROM households WHERE id = NEW.household_id);
    RETURN NEW;
END
$$;
CREATE TRIGGER movements_commune BEFORE INSERT OR UPDATE OF household_id ON movements
FOR EACH ROW EXECUTE FUNCTION row_commune();
CREATE TRIGGER assessments_commune BEFORE INSERT OR UPDATE OF household_id ON assessments
FOR EACH ROW EXECUTE FUNCTION row_commune();
CREATE TRIGGER review_steps_commune BEFORE INSERT OR UPDATE OF household_id ON review_steps
FOR EACH ROW EXECUTE FUNCTION row_commune();
CREATE TRIGGER support_commune BEFORE INSERT OR UPDATE OF household_id ON support_actions
FOR EACH ROW EXECUTE FUNCTION row_commune();
CREATE TRIGGER visits_commune BEFORE INSERT OR UPDATE OF household_id ON visits
FOR EACH ROW EXECUTE FUNCTION row_commune();
CREATE TRIGGER assignments_commune BEFORE INSERT OR UPDATE OF household_id ON assignments
FOR EACH ROW EXECUTE FUNCTION row_commune();

-- A household that changed commune carries its rows. (A column changed by a BEFORE trigger
-- does not fire `UPDATE OF` triggers: the village, named by the write, does.)
CREATE FUNCTION household_rows_commune() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE movements SET commune_id = NEW.commune_id WHERE household_id = NEW.id;
    UPDATE assessments SET commune_id = NEW.commune_id WHERE household_id = NEW.id;
    UPDATE review_steps SET commune_id = NEW.commune_id WHERE household_id = NEW.id;
    UPDATE support_actions SET commune_id = NEW.commune_id WHERE household_id = NEW.id;
    UPDATE visits SET commune_id = NEW.commune_id WHERE household_id = NEW.id;
    UPDATE assignments SET commune_id = NEW.commune_id WHERE household_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER households_rows_commune AFTER UPDATE OF village_id, commune_id ON households
FOR EACH ROW WHEN (OLD.commune_id IS DISTINCT FROM NEW.commune_id)
EXECUTE FUNCTION household_rows_commune();

-- A village moved to another commune carries its households (and they their rows).
CREATE FUNCTION village_households_commune() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE households SET commune_id = NEW.parent_id WHERE village_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER areas_households_commune AFTER UPDATE OF parent_id ON areas
FOR EACH ROW WHEN (OLD.parent_id IS DISTINCT FROM NEW.parent_id)
EXECUTE FUNCTION village_households_commune();
