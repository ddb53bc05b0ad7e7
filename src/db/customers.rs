use chrono::{DateTime, Utc};
use serde_json::json;

use super::Conn;
use crate::on_conn;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Customer {
    pub id: String,
    pub name: String,
    pub email: String,
    pub gstin: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Customer {
    pub fn audit_json(&self) -> serde_json::Value {
        json!({"id": self.id, "name": self.name, "email": self.email, "gstin": self.gstin})
    }
}

pub async fn insert(
    c: Conn<'_>,
    id: &str,
    name: &str,
    email: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Customer> {
    on_conn!(c, e => sqlx::query_as(
        "INSERT INTO customers (id, name, email, gstin, created_at, updated_at) VALUES ($1, $2, $3, NULL, $4, $4) \
         RETURNING id, name, email, gstin, created_at, updated_at")
        .bind(id).bind(name).bind(email).bind(now).fetch_one(e).await)
}

pub async fn by_id(c: Conn<'_>, id: &str) -> sqlx::Result<Option<Customer>> {
    on_conn!(c, e => sqlx::query_as("SELECT id, name, email, gstin, created_at, updated_at FROM customers WHERE id = $1")
        .bind(id).fetch_optional(e).await)
}

pub async fn by_email(c: Conn<'_>, email: &str) -> sqlx::Result<Option<Customer>> {
    on_conn!(c, e => sqlx::query_as("SELECT id, name, email, gstin, created_at, updated_at FROM customers WHERE email = $1 ORDER BY created_at LIMIT 1")
        .bind(email).fetch_optional(e).await)
}

/// Customers by name, for pickers.
pub async fn list(c: Conn<'_>, limit: i64) -> sqlx::Result<Vec<Customer>> {
    on_conn!(c, e => sqlx::query_as("SELECT id, name, email, gstin, created_at, updated_at FROM customers ORDER BY lower(name), id LIMIT $1")
        .bind(limit).fetch_all(e).await)
}
