-- One household code, one household: codes are compared by their key (trimmed, Unicode
-- NFC, lower-cased; `shared::household::code_key`), so `DV-01-0001` and `dv-01-0001`, or
-- one code typed with composed and decomposed accents, cannot be two households. Every
-- write of a household sets its key. Households stored before get theirs when the server
-- starts (`store::sql::codes`), except a code whose key another household already holds:
-- that one stays without a key until an officer gives it another code, and
-- `donghanh check-codes` lists it.
ALTER TABLE households ADD COLUMN code_key TEXT;
CREATE UNIQUE INDEX households_unique_code_key ON households(code_key);
