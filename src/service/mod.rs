//! The service layer: what the web handlers (and the command line) call, and the only code that
//! calls `db`. Each function that changes something takes the [`Actor`](crate::domain::actor::Actor)
//! and writes its audit entry in the same transaction; each read of customer data takes a
//! [`Scope`](crate::domain::actor::Scope), so keeping one customer out of another's data is decided
//! here, in one place.

pub mod accounts;
pub mod activity;
pub mod billing;
pub mod catalog;
pub mod checkout;
pub mod credentials;
pub mod customers;
pub mod demo;
pub mod executions;
pub mod generation;
pub mod goals;
pub mod hired_agents;
pub mod hired_agents_list;
pub mod outbox;
pub mod period_documents;
pub mod phase1;
pub mod review_queue;
pub mod reviews;
pub mod sessions;
pub mod setup;
pub mod signin;
pub mod subscriptions;
pub mod tokens;
pub mod users;
