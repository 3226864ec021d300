-- What a revocation means for the phone (`shared::api::RevokeKind`): 'sign_out' hides the
-- phone's data until the same person signs in again; 'erase' (lost or stolen) makes the
-- phone delete everything of the person at its next contact, and `erased_at` records when
-- it confirmed. `unsent` is how many households with unsent changes the phone last
-- reported (at a sync, or in its erase confirmation: the work that was lost).
ALTER TABLE sessions ADD COLUMN revoke_kind TEXT;
ALTER TABLE sessions ADD COLUMN erased_at BIGINT;
ALTER TABLE sessions ADD COLUMN unsent BIGINT NOT NULL DEFAULT 0;
