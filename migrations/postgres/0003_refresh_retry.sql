-- The token a refresh issued, so that a phone whose answer was lost can present the old
-- token again within a grace period (see rotate_refresh).
ALTER TABLE refresh_tokens ADD COLUMN replaced_by TEXT;
