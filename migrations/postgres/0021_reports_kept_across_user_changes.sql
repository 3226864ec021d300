-- A report keeps its visits by the cadre's id and names the cadres when it is given
-- (`Report::name_cadres`), so no change of a user changes a kept figure: adding, removing
-- or renaming a user no longer moves the reports' epoch (before, every account made
-- while a province's cadres were set up had every commune of every province counted
-- again). Kept parts counted visits by name: the epoch moves once here so they are
-- counted again by id.
DROP TRIGGER users_added_or_removed_change_reports ON users;
DROP TRIGGER users_renamed_change_reports ON users;
UPDATE report_epoch SET value = value + 1 WHERE id = 1;
