//! Pure types and rules, no I/O.

pub mod diff;
pub mod ids;
pub mod roles;
