-- The reports name a user by their full name only (the visits' cadres), so only adding,
-- removing or renaming a user moves the reports' epoch. Every other edit of a user (a new
-- password, a role, an area, a disabled account) used to move it too, and with it every
-- commune's kept report parts and kept household lists were counted again: a province of
-- 100 communes after an administrator reset one password.
DROP TRIGGER users_update_changes_reports;
CREATE TRIGGER users_renamed_changes_reports AFTER UPDATE OF full_name ON users
WHEN OLD.full_name IS NOT NEW.full_name
BEGIN UPDATE report_epoch SET value = value + 1 WHERE id = 1; END;
