-- Households in the register by village and official status, kept by triggers in the
-- transaction of every write of a household (the write core, an import, a decision, a
-- household leaving the register), so a province's overview sums a few rows per village
-- instead of counting every household of the province at each request.
CREATE TABLE village_status_counts (
    village_id TEXT NOT NULL,
    status TEXT NOT NULL,
    households BIGINT NOT NULL,
    PRIMARY KEY (village_id, status)
);

INSERT INTO village_status_counts (village_id, status, households)
SELECT village_id, status, COUNT(*) FROM households WHERE left_on IS NULL
GROUP BY village_id, status;

CREATE FUNCTION count_households() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.left_on IS NULL THEN
        UPDATE village_status_counts SET households = households - 1
        WHERE village_id = OLD.village_id AND status = OLD.status;
    END IF;
    IF NEW.left_on IS NULL THEN
        INSERT INTO village_status_counts AS c (village_id, status, households)
        VALUES (NEW.village_id, NEW.status, 1)
        ON CONFLICT (village_id, status) DO UPDATE SET households = c.households + 1;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER households_counted_on_insert AFTER INSERT ON households
FOR EACH ROW EXECUTE FUNCTION count_households();

CREATE TRIGGER households_counted_on_update AFTER UPDATE OF village_id, status, left_on ON households
FOR EACH ROW
WHEN (OLD.village_id IS DISTINCT FROM NEW.village_id OR OLD.status IS DISTINCT FROM NEW.status
    OR OLD.left_on IS DISTINCT FROM NEW.left_on)
EXECUTE FUNCTION count_households();
