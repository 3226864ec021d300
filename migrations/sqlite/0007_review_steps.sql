-- The steps of each household's reviews in the read model (their source is the household
-- document): listing, village meeting, posting, complaints and answers, the commune's
-- decision. The campaign screens, escape tracking and the reports read them. Filled by
-- every write of a household from now on; `donghanh rebuild-read-model` fills it for
-- households written before.
CREATE TABLE review_steps (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households(id),
    review_id TEXT,
    kind TEXT NOT NULL,
    date TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX review_steps_household ON review_steps(household_id, date);
CREATE INDEX review_steps_kind ON review_steps(kind, date);
