-- Hashed session keys mean nothing to the earlier version: its users sign in again.
DELETE FROM sessions;
