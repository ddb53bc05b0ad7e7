//! Pure types and rules, no I/O.

pub mod actor;
pub mod billing;
pub mod builtin;
pub mod catalog_edit;
pub mod csv;
pub mod customer;
pub mod definition;
pub mod definition_diff;
pub mod deliverable_edits;
pub mod deliverable_payloads;
pub mod deliverable_states;
pub mod diff;
pub mod form_rows;
pub mod forms;
pub mod gstin;
pub mod hired_agent;
pub mod ids;
pub mod limits;
pub mod paths;
#[cfg(test)]
mod property_tests;
pub mod roles;
pub mod schedule;
pub mod schema;
pub mod text;
pub mod version;
pub mod version_status;
