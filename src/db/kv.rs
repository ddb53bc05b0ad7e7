//! Small application settings kept in the database (the generated secret key).

use super::Conn;
use crate::on_conn;

pub async fn get(c: Conn<'_>, key: &str) -> sqlx::Result<Option<String>> {
    on_conn!(c, e => sqlx::query_scalar("SELECT value FROM app_settings WHERE key = $1").bind(key).fetch_optional(e).await)
}

/// Stores `value` unless the key has one already; returns the value that is stored afterwards, so
/// two instances starting at once agree on one.
pub async fn get_or_insert(c: Conn<'_>, key: &str, value: &str) -> sqlx::Result<String> {
    on_conn!(c, e => {
        sqlx::query("INSERT INTO app_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
            .bind(key).bind(value).execute(&mut *e).await?;
        sqlx::query_scalar("SELECT value FROM app_settings WHERE key = $1").bind(key).fetch_one(&mut *e).await
    })
}

pub async fn delete(c: Conn<'_>, key: &str) -> sqlx::Result<()> {
    crate::execute!(
        c,
        sqlx::query("DELETE FROM app_settings WHERE key = $1").bind(key)
    )?;
    Ok(())
}
