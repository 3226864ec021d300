-- The commune key written by the statements that write a row (migration 0015 kept it by
-- triggers alone). A trigger that computes the key costs a function call for every row,
-- and a province's load is millions of rows; the read model's statements and the import
-- now write the key themselves (the import from the areas it brings, the write core by a
-- subquery in the same statement), and the triggers only fill a key a writer left out.
-- A household's or village's move still carries the key: those triggers are unchanged,
-- save that a household's is skipped when its village stayed.

DROP TRIGGER households_commune ON households;
CREATE TRIGGER households_commune BEFORE INSERT ON households
FOR EACH ROW WHEN (NEW.commune_id IS NULL) EXECUTE FUNCTION household_commune();
CREATE TRIGGER households_commune_moved BEFORE UPDATE OF village_id ON households
FOR EACH ROW WHEN (OLD.village_id IS DISTINCT FROM NEW.village_id)
EXECUTE FUNCTION household_commune();

DROP TRIGGER movements_commune ON movements;
DROP TRIGGER assessments_commune ON assessments;
DROP TRIGGER review_steps_commune ON review_steps;
DROP TRIGGER support_commune ON support_actions;
DROP TRIGGER visits_commune ON visits;
DROP TRIGGER assignments_commune ON assignments;
CREATE TRIGGER movements_commune BEFORE INSERT ON movements
FOR EACH ROW WHEN (NEW.commune_id IS NULL) EXECUTE FUNCTION row_commune();
CREATE TRIGGER assessments_commune BEFORE INSERT ON assessments
FOR EACH ROW WHEN (NEW.commune_id IS NULL) EXECUTE FUNCTION row_commune();
CREATE TRIGGER review_steps_commune BEFORE INSERT ON review_steps
FOR EACH ROW WHEN (NEW.commune_id IS NULL) EXECUTE FUNCTION row_commune();
CREATE TRIGGER support_commune BEFORE INSERT ON support_actions
FOR EACH ROW WHEN (NEW.commune_id IS NULL) EXECUTE FUNCTION row_commune();
CREATE TRIGGER visits_commune BEFORE INSERT ON visits
FOR EACH ROW WHEN (NEW.commune_id IS NULL) EXECUTE FUNCTION row_commune();
CREATE TRIGGER assignments_commune BEFORE INSERT ON assignments
FOR EACH ROW WHEN (NEW.commune_id IS NULL) EXECUTE FUNCTION row_commune();
-- A record moved to another household (no statement does today) takes that household's.
CREATE TRIGGER movements_commune_moved BEFORE UPDATE OF household_id ON movements
FOR EACH ROW WHEN (OLD.household_id IS DISTINCT FROM NEW.household_id) EXECUTE FUNCTION row_commune();
CREATE TRIGGER assessments_commune_moved BEFORE UPDATE OF household_id ON assessments
FOR EACH ROW WHEN (OLD.household_id IS DISTINCT FROM NEW.household_id) EXECUTE FUNCTION row_commune();
CREATE TRIGGER review_steps_commune_moved BEFORE UPDATE OF household_id ON review_steps
FOR EACH ROW WHEN (OLD.household_id IS DISTINCT FROM NEW.household_id) EXECUTE FUNCTION row_commune();
CREATE TRIGGER support_commune_moved BEFORE UPDATE OF household_id ON support_actions
FOR EACH ROW WHEN (OLD.household_id IS DISTINCT FROM NEW.household_id) EXECUTE FUNCTION row_commune();
CREATE TRIGGER visits_commune_moved BEFORE UPDATE OF household_id ON visits
FOR EACH ROW WHEN (OLD.household_id IS DISTINCT FROM NEW.household_id) EXECUTE FUNCTION row_commune();
CREATE TRIGGER assignments_commune_moved BEFORE UPDATE OF household_id ON assignments
FOR EACH ROW WHEN (OLD.household_id IS DISTINCT FROM NEW.household_id) EXECUTE FUNCTION row_commune();
