-- A commune's report figures for a period (its total row, causes, support and visits; no
-- household lines), kept so a province's report sums its communes' parts instead of
-- recounting every household of the province (`api::report_parts`). A part is current
-- while no household document of the commune was written after `built_seq` (the
-- documents' sequence, `sync_counter`) and `epoch` is still `report_epoch`'s value: every
-- change of an area, a user (the visits name cadres), a target, a household's village, a
-- rebuilt read model or a ledger filled at start-up moves the epoch on.
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

CREATE FUNCTION next_report_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE report_epoch SET value = value + 1 WHERE id = 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER areas_change_reports AFTER INSERT OR UPDATE OR DELETE ON areas
FOR EACH STATEMENT EXECUTE FUNCTION next_report_epoch();
CREATE TRIGGER users_change_reports AFTER INSERT OR UPDATE OR DELETE ON users
FOR EACH STATEMENT EXECUTE FUNCTION next_report_epoch();
CREATE TRIGGER targets_change_reports AFTER INSERT OR UPDATE OR DELETE ON targets
FOR EACH STATEMENT EXECUTE FUNCTION next_report_epoch();
CREATE TRIGGER households_moved_change_reports AFTER UPDATE OF village_id ON households
FOR EACH ROW WHEN (OLD.village_id IS DISTINCT FROM NEW.village_id)
EXECUTE FUNCTION next_report_epoch();
