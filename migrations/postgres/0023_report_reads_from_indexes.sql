-- A commune's figures for a province's report read from the commune-key indexes alone
-- (index-only scans), not from the tables' wide rows: the households grouped by village,
-- status and causes, the visits of the period by cadre and household, and the movements
-- that tell which households moved. Counting a province of 100 communes × 8,000 households
-- with nothing kept read about 750 heap pages of households and 540 of visits per commune;
-- these indexes hold what those reads need in a fraction of that (BENCHMARKS.md, issue 35).
-- Each replaces the index of the same key, so a write maintains as many indexes as before.
DROP INDEX households_commune;
CREATE INDEX households_commune ON households(commune_id, code)
    INCLUDE (village_id, status, causes, created_at, id);

DROP INDEX visits_commune;
CREATE INDEX visits_commune ON visits(commune_id, date) INCLUDE (cadre_id, household_id);

DROP INDEX movements_commune;
CREATE INDEX movements_commune ON movements(commune_id, date)
    INCLUDE (household_id, from_status, to_status);

DROP INDEX movements_household;
CREATE INDEX movements_household ON movements(household_id, date)
    INCLUDE (id, from_status, to_status, basis);

-- An index-only scan reads the table only for pages written since the last vacuum. The
-- visits and movements of the period being reported are the newest rows, and a household
-- is rewritten at each of its document's writes: vacuumed after 1–2 % of the table is
-- written (the default waits for 20 %), their pages stay visible to the index alone.
ALTER TABLE households SET (autovacuum_vacuum_scale_factor = 0.02);
ALTER TABLE visits SET (autovacuum_vacuum_insert_scale_factor = 0.01);
ALTER TABLE movements SET (autovacuum_vacuum_insert_scale_factor = 0.01);

-- A household's row is rewritten at each write of its document. With full pages each new
-- version went to another page and into every index of the table (1 of 11,820 updates of a
-- province's load was kept on its page); with room left on each page, a rewrite that
-- changes no indexed column stays on its page and adds to no index.
ALTER TABLE households SET (fillfactor = 90);
