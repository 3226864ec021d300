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

CREATE TRIGGER households_counted_on_insert AFTER INSERT ON households
WHEN NEW.left_on IS NULL
BEGIN
    INSERT INTO village_status_counts (village_id, status, households)
    VALUES (NEW.village_id, NEW.status, 1)
    ON CONFLICT (village_id, status) DO UPDATE SET households = households + 1;
END;

CREATE TRIGGER households_counted_on_update AFTER UPDATE OF village_id, status, left_on ON households
WHEN OLD.village_id IS NOT NEW.village_id OR OLD.status IS NOT NEW.status
    OR OLD.left_on IS NOT NEW.left_on
BEGIN
    UPDATE village_status_counts SET households = households - 1
    WHERE OLD.left_on IS NULL AND village_id = OLD.village_id AND status = OLD.status;
    INSERT INTO village_status_counts (village_id, status, households)
    SELECT NEW.village_id, NEW.status, 1 WHERE NEW.left_on IS NULL
    ON CONFLICT (village_id, status) DO UPDATE SET households = households + 1;
END;
