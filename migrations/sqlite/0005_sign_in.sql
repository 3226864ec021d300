-- Consecutive failed sign-ins per username (known or not, so a lock does not tell which
-- usernames exist): after a few, the account is locked for a time that doubles with each
-- further failure. A successful sign-in or a password set by the administrator clears it.
CREATE TABLE sign_in_failures (
    username TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_failed_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0
);
