-- The write core binds every automerge actor id to the device that first used it, so no
-- device can write under another's actor; quarantine is bounded per device.
CREATE TABLE device_actors (
    actor_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    first_at BIGINT NOT NULL
);
CREATE INDEX quarantine_device ON quarantine(device_id);
ALTER TABLE quarantine ADD COLUMN code TEXT NOT NULL DEFAULT 'role';
ALTER TABLE quarantine ADD COLUMN decided_at BIGINT;
ALTER TABLE quarantine ADD COLUMN decided_by TEXT;
ALTER TABLE quarantine ADD COLUMN decision TEXT;
