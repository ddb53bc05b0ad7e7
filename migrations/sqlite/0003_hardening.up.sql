-- Sessions are now stored under the SHA-256 of their key, never the key itself. Rows written before
-- hold raw keys that no cookie will ever match again: remove them (those users sign in once more).
DELETE FROM sessions;
