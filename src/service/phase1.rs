//! Operations kept for clients of the Phase-1 Plant API, expressed with today's lifecycle.

use serde_json::Value;

use super::catalog::{self, StoredVersion, check_document};
use crate::db::Db;
use crate::domain::actor::Actor;
use crate::domain::version_status::VersionStatus;
use crate::error::{AppError, AppResult, ErrorCode};

/// `PUT /agent-types/{id}`: Phase 1 replaced the one live definition of a type. Here the body's
/// version becomes live: a new version is created and published; a draft of that version is
/// updated and published; the published version itself is accepted when it is unchanged (a repeated
/// request is harmless) and refused when it differs (published versions never change); a retired
/// version stays retired. Returns the version and whether anything changed.
pub async fn upsert_live(
    db: &Db,
    actor: &Actor,
    agent_type_id: &str,
    doc: &Value,
) -> AppResult<(StoredVersion, bool)> {
    let d = check_document(doc).map_err(AppError::invalid)?;
    if d.agent_type_id != agent_type_id {
        // Phase 1's words, and its status.
        return Err(AppError::bad_request(
            ErrorCode::BadRequest,
            "agent_type_id mismatch",
        ));
    }
    let existing = catalog::get(db, agent_type_id, &d.version).await?;
    match existing.as_ref().map(StoredVersion::status).transpose()? {
        None => {
            catalog::create_draft(db, actor, doc).await?;
        }
        Some(VersionStatus::Draft) => {
            catalog::update_draft(db, actor, agent_type_id, &d.version, doc).await?;
        }
        Some(VersionStatus::Published) => {
            let stored = existing.expect("matched Some");
            if stored.definition == d {
                return Ok((stored, false));
            }
            return Err(catalog::published_conflict(&stored));
        }
        Some(VersionStatus::Retired) => {
            return Err(AppError::conflict(
                ErrorCode::StatusChangeRefused,
                format!(
                    "{} is retired and stays retired; send a new version instead.",
                    d.id()
                ),
            ));
        }
    }
    let live = catalog::transition(
        db,
        actor,
        agent_type_id,
        &d.version,
        VersionStatus::Published.as_str(),
    )
    .await?;
    Ok((live, true))
}
