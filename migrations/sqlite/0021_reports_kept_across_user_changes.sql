-- As migrations/postgres/0021_reports_kept_across_user_changes.sql.
DROP TRIGGER users_insert_changes_reports;
DROP TRIGGER users_delete_changes_reports;
DROP TRIGGER users_renamed_changes_reports;
UPDATE report_epoch SET value = value + 1 WHERE id = 1;
