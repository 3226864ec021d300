-- One server process at a time keeps the report parts (`report_keeper`): the process
-- holding this row's lease passes, the others wait for it to lapse. Without it every
-- process counted the same stale communes in its own pass (a whole province's, after the
-- epoch moved), each adding a province's recount to the database's load.
CREATE TABLE report_keeper_lease (
    id BIGINT PRIMARY KEY,
    holder TEXT NOT NULL,
    until_ms BIGINT NOT NULL
);
INSERT INTO report_keeper_lease (id, holder, until_ms) VALUES (1, '', 0);
