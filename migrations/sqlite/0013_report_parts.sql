-- As migrations/postgres/0013_report_parts.sql (SQLite's triggers are per row).
CREATE TABLE report_epoch (
    id BIGINT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO report_epoch (id, value) VALUES (1, 0);

CREATE TABLE report_parts (
    area_id TEXT NOT NULL,
    year BIGINT NOT NULL,
    period TEXT NOT NULL,
    built_seq BIGINT NOT NULL,
    epoch BIGINT NOT NULL,
    part TEXT NOT NULL,
    PRIMARY KEY (area_id, year, period)
);

CREATE TRIGGER areas_insert_changes_reports AFTER INSERT ON areas
BEGIN UPDATE report_epoch SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER areas_update_changes_reports AFTER UPDATE ON areas
BEGIN UPDATE report_epoch SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER areas_delete_changes_reports AFTER DELETE ON areas
BEGIN UPDATE report_epoch SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER users_insert_changes_reports AFTER INSERT ON users
BEGIN UPDATE report_epoch SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER users_update_changes_reports AFTER UPDATE ON users
BEGIN UPDATE report_epoch SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER users_delete_changes_reports AFTER DELETE ON users
BEGIN UPDATE report_epoch SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER targets_insert_changes_reports AFTER INSERT ON targets
BEGIN UPDATE report_epoch SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER targets_update_changes_reports AFTER UPDATE ON targets
BEGIN UPDATE report_epoch SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER targets_delete_changes_reports AFTER DELETE ON targets
BEGIN UPDATE report_epoch SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER households_moved_change_reports AFTER UPDATE OF village_id ON households
WHEN OLD.village_id IS NOT NEW.village_id
BEGIN UPDATE report_epoch SET value = value + 1 WHERE id = 1; END;
