//! Black-box tests: each starts agentdesk on a free port with a fresh database, on SQLite and on
//! PostgreSQL, and checks what a user or an integration would notice.

mod helpers;

mod activity;
mod agent_types_api;
mod agent_types_pages;
mod api_tokens;
mod audit;
mod browser;
mod browser_catalog;
mod cli;
mod hardening;
mod login;
mod migrations;
mod platform;
mod roles;
mod sessions;
mod users_admin;
