-- The name a device gives itself at sign-in (its browser and phone model, e.g. "Chrome ·
-- Android · SM-A125F"), which the person can change on the phone: how the administrator
-- and the console's history and conflicts tell one phone from another.
ALTER TABLE sessions ADD COLUMN device_name TEXT NOT NULL DEFAULT '';
