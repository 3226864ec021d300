-- Foundation schema: areas, users and sessions, the household register, accompaniment,
-- support, targets and the audit trail. Times are Unix milliseconds; dates are ISO text.

CREATE TABLE areas (
    id TEXT PRIMARY KEY,
    parent_id TEXT REFERENCES areas(id),
    kind TEXT NOT NULL CHECK (kind IN ('province', 'commune', 'village')),
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);
CREATE INDEX areas_parent ON areas(parent_id);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    full_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    area_id TEXT NOT NULL REFERENCES areas(id),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL
);

-- One session per user and device; revoking it cuts off a lost phone.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id),
    device_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX sessions_user ON sessions(user_id);

-- Refresh tokens are kept only as SHA-256 digests; each is used once and then replaced.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX refresh_tokens_session ON refresh_tokens(session_id);

CREATE TABLE households (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    village_id TEXT NOT NULL REFERENCES areas(id),
    address TEXT NOT NULL,
    head_name TEXT NOT NULL,
    residence TEXT NOT NULL,
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    causes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    -- Code, head and address lower-cased without accents, for search ("dang" finds "Đặng").
    search_text TEXT NOT NULL
);
CREATE INDEX households_village ON households(village_id, status);

CREATE TABLE members (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households(id),
    position BIGINT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX members_household ON members(household_id, position);

CREATE TABLE assessments (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households(id),
    date TEXT NOT NULL,
    rule_set_id TEXT NOT NULL,
    classification TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX assessments_household ON assessments(household_id, date);

CREATE TABLE assignments (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households(id),
    cadre_id TEXT NOT NULL REFERENCES users(id),
    from_date TEXT NOT NULL,
    to_date TEXT,
    cadence_days BIGINT NOT NULL
);
CREATE INDEX assignments_cadre ON assignments(cadre_id);
CREATE INDEX assignments_household ON assignments(household_id);

CREATE TABLE visits (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households(id),
    cadre_id TEXT NOT NULL REFERENCES users(id),
    date TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX visits_household ON visits(household_id, date);

CREATE TABLE support_actions (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL REFERENCES households(id),
    status TEXT NOT NULL,
    delivered_date TEXT,
    planned_date TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX support_household ON support_actions(household_id);

CREATE TABLE targets (
    area_id TEXT NOT NULL REFERENCES areas(id),
    year BIGINT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (area_id, year)
);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    user_id TEXT,
    device_id TEXT,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    changes TEXT NOT NULL
);
CREATE INDEX audit_entity ON audit_events(entity, entity_id);
CREATE INDEX audit_at ON audit_events(at);
