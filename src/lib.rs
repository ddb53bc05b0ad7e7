//! agentdesk: the admin and customer portal of an AI-agent workforce platform.

pub mod app;
pub mod bench_data;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod jobs;
pub mod keys;
pub mod passwords;
pub mod service;
pub mod web;
