//! Small view types shared by templates.

use chrono::{DateTime, Utc};

use crate::db::audit::AuditEntry;
use crate::domain::diff::{self, FieldChange};

/// A timestamp: shown in UTC by the server, rewritten to the viewer's timezone by app.js.
#[derive(Debug, Clone, Copy)]
pub struct Ts(pub DateTime<Utc>);

impl Ts {
    pub fn iso(&self) -> String {
        self.0.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }
}

impl std::fmt::Display for Ts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d %H:%M UTC"))
    }
}

/// One audit entry as a row of the activity tables.
pub struct AuditRow {
    pub at: Ts,
    pub actor: String,
    pub entity: String,
    pub action: String,
    pub changes: Vec<FieldChange>,
}

impl From<AuditEntry> for AuditRow {
    fn from(a: AuditEntry) -> Self {
        let actor = match (&a.actor_email, &a.actor_role) {
            (Some(e), Some(r)) => format!("{e} ({r})"),
            (Some(e), None) => e.clone(),
            _ => "system".into(),
        };
        AuditRow {
            at: Ts(a.at),
            actor,
            entity: format!("{} {}", a.entity_type, a.entity_id),
            action: a.action.replace('_', " "),
            changes: diff::changes(
                a.before.as_ref().map(|j| &j.0),
                a.after.as_ref().map(|j| &j.0),
            ),
        }
    }
}
