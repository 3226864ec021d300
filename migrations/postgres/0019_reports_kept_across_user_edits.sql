-- The reports name a user by their full name only (the visits' cadres), so only adding,
-- removing or renaming a user moves the reports' epoch. Every other edit of a user (a new
-- password, a role, an area, a disabled account) used to move it too, and with it every
-- commune's kept report parts and kept household lists were counted again: a province of
-- 100 communes after an administrator reset one password.
DROP TRIGGER users_change_reports ON users;
CREATE TRIGGER users_added_or_removed_change_reports AFTER INSERT OR DELETE ON users
FOR EACH STATEMENT EXECUTE FUNCTION next_report_epoch();
CREATE TRIGGER users_renamed_change_reports AFTER UPDATE OF full_name ON users
FOR EACH ROW WHEN (OLD.full_name IS DISTINCT FROM NEW.full_name)
EXECUTE FUNCTION next_report_epoch();
