-- A household's plan in the read model (its source is the household document): which
-- poor and near-poor households have no plan, for the commune dashboard. Filled by every
-- write of a household from now on; `donghanh rebuild-read-model` fills it for households
-- written before.
CREATE TABLE plan_items (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households(id),
    status TEXT NOT NULL,
    due TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX plan_items_household ON plan_items(household_id);
