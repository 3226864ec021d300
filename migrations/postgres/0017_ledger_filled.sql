-- Whether the movement ledger has been filled for the households written before it
-- existed (migration 0009). The fill runs at a server's start until it has once
-- completed; without this mark every start would look through the whole province's
-- households for one without movements (most of a second at 800,000 households).
CREATE TABLE ledger_filled (
    id INTEGER PRIMARY KEY CHECK (id = 1)
);
