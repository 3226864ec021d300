-- As migrations/postgres/0022_report_keeper_lease.sql.
CREATE TABLE report_keeper_lease (
    id BIGINT PRIMARY KEY,
    holder TEXT NOT NULL,
    until_ms BIGINT NOT NULL
);
INSERT INTO report_keeper_lease (id, holder, until_ms) VALUES (1, '', 0);
