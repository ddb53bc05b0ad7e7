DROP TABLE audit_log;
DROP FUNCTION agentdesk_refuse_change();
DROP TABLE app_settings;
DROP TABLE login_attempts;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE customers;
