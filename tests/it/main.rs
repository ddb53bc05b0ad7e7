//! Black-box tests: each starts agentdesk on a free port with a fresh database, on SQLite and on
//! PostgreSQL, and checks what a user or an integration would notice.

mod helpers;
mod jobs;

mod activity;
mod agent_types_api;
mod agent_types_pages;
mod agents_fixture;
mod api_tokens;
mod audit;
mod bench_data;
mod billing;
mod browser;
mod browser_agents;
mod browser_billing;
mod browser_catalog;
mod browser_customers;
mod browser_hired_agents_list;
mod browser_reviews;
mod cli;
mod credentials;
mod customers_admin;
mod deliverables_api;
mod explain_plans;
mod generation;
mod hardening;
mod hired_agents;
mod hired_agents_admin;
mod hired_agents_api;
mod login;
mod migration_role;
mod migrations;
mod openapi;
mod pg_cluster;
mod phase1_api;
mod platform;
mod read_connections;
mod review_pages;
mod reviews;
mod roles;
mod search_index;
mod sessions;
mod users_admin;
