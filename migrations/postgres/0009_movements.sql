-- The register's ledger (`shared::ledger`): every entry of a household into the register,
-- every change of its official status and its leaving the register (moved away, merged,
-- split, dissolved), with the day it takes effect, its basis (a
-- registration, the commune's opening balance, or a decision's number) and who recorded
-- it. The write core records a household's movements in the commit that makes them; the
-- reports count nothing else. Households stored before get theirs from their records
-- when the server starts (`store::sql::ledger`).
CREATE TABLE movements (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households(id),
    from_status TEXT,
    -- NULL: the household left the register.
    to_status TEXT,
    date TEXT NOT NULL,
    basis TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE INDEX movements_household ON movements(household_id, date);

-- The day a household left the register (NULL while it is in it): the lists and counts
-- of the households in the register leave it out; the reports count it until that day.
ALTER TABLE households ADD COLUMN left_on TEXT;
