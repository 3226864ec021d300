-- Household documents (automerge): changes appended per document and compacted into a
-- snapshot; a global sequence numbers every accepted write so devices pull by cursor.

CREATE TABLE sync_counter (
    id BIGINT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO sync_counter (id, value) VALUES (1, 0);

CREATE TABLE docs (
    doc_id TEXT PRIMARY KEY REFERENCES households(id),
    -- Compacted document up to snapshot_seq; later changes are in doc_changes.
    snapshot BLOB,
    snapshot_seq BIGINT NOT NULL DEFAULT 0,
    heads TEXT NOT NULL,
    seq BIGINT NOT NULL
);
CREATE INDEX docs_seq ON docs(seq);

CREATE TABLE doc_changes (
    doc_id TEXT NOT NULL REFERENCES docs(doc_id),
    seq BIGINT NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (doc_id, seq)
);

-- The heads of each document after each accepted write, to send a device only what it lacks.
CREATE TABLE doc_history (
    doc_id TEXT NOT NULL REFERENCES docs(doc_id),
    seq BIGINT NOT NULL,
    heads TEXT NOT NULL,
    PRIMARY KEY (doc_id, seq)
);

-- Changes refused by the role rules, kept for the commune officer: never applied, never lost.
CREATE TABLE quarantine (
    id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    reason TEXT NOT NULL,
    bytes BLOB NOT NULL
);
CREATE INDEX quarantine_doc ON quarantine(doc_id);

-- Fields written concurrently on several devices, open until a commune officer decides.
CREATE TABLE conflicts (
    id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL REFERENCES docs(doc_id),
    path TEXT NOT NULL,
    candidates TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    resolved_at BIGINT,
    resolved_by TEXT,
    resolution TEXT
);
CREATE INDEX conflicts_open ON conflicts(doc_id, path, resolved_at);
