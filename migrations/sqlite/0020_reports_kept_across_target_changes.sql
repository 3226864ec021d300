-- A commune's kept report part holds its own target only, and a province's report now
-- reads the communes' targets of the year when it sums the parts (`api::report_parts`), so
-- a target set or changed no longer moves the reports' epoch. It used to: every commune
-- of every province was counted again from its households (seconds at 100 communes) when
-- one commune's target was set, in the weeks a commune's officers set them.
DROP TRIGGER targets_insert_changes_reports;
DROP TRIGGER targets_update_changes_reports;
DROP TRIGGER targets_delete_changes_reports;
