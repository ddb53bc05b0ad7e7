//! The agent type catalog (SPEC §3): drafts, publishing, retiring and the built-ins. Each change is
//! one transaction with its audit entry.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::db::agent_types::{self, NewVersion, VersionRow};
use crate::db::audit::{self, Change};
use crate::db::{Conn, Db, Tx};
use crate::domain::actor::{Actor, Scope};
use crate::domain::builtin;
use crate::domain::definition::{Definition, Version, meta_validate};
use crate::domain::version_status::{Refusal, VersionStatus};
use crate::error::{AppError, AppResult, ErrorCode, Violation};

pub const DRAFT: &str = "draft";
pub const PUBLISHED: &str = "published";
pub const RETIRED: &str = "retired";

pub use crate::db::agent_types::TypeSummary;

/// The catalog list: each type by the version it is known by, searched by id and name and filtered
/// by status (`pending`: a newer draft exists). One statement over the (small) versions table.
pub async fn summaries(db: &Db, query: &str, status: Option<&str>) -> AppResult<Vec<TypeSummary>> {
    let mut c = db.acquire().await?;
    Ok(agent_types::summaries(c.conn(), query, status, false).await?)
}

/// Every type as (id, display name), by name: the choices of the lists' type filters.
pub async fn type_names(db: &Db) -> AppResult<Vec<(String, String)>> {
    let mut c = db.acquire().await?;
    Ok(agent_types::type_names(c.conn()).await?)
}

/// Bumped after every change to the catalog committed by this process: a kept list of type names
/// older than it is read again.
static CATALOG_GENERATION: AtomicU64 = AtomicU64::new(0);

fn catalog_changed() {
    CATALOG_GENERATION.fetch_add(1, Ordering::AcqRel);
}

/// How long kept type names are shown without reading them again: what another instance changed
/// reaches this one's filters within this time (this instance's own changes at once).
pub const TYPE_NAMES_KEPT_SECONDS: i64 = 5;

/// The lists' type filter choices ([`type_names`]), kept between requests. The staff queue and the
/// hired-agents list show them on every request; they change only when the catalog does, so
/// keeping them saves each of those pages a round trip to the database (a third of its statements).
#[derive(Default)]
pub struct TypeNames {
    kept: Mutex<Option<KeptNames>>,
}

struct KeptNames {
    generation: u64,
    read_at: DateTime<Utc>,
    names: Arc<Vec<(String, String)>>,
}

impl TypeNames {
    /// The names, read again when this process changed the catalog or they were read more than
    /// [`TYPE_NAMES_KEPT_SECONDS`] before `now` (the app's clock).
    pub async fn get(&self, db: &Db, now: DateTime<Utc>) -> AppResult<Arc<Vec<(String, String)>>> {
        // Read before the statement: a change committed while it runs makes the next call read again.
        let generation = CATALOG_GENERATION.load(Ordering::Acquire);
        if let Some(k) = self.kept.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
            && k.generation == generation
            && (k.read_at..k.read_at + chrono::Duration::seconds(TYPE_NAMES_KEPT_SECONDS))
                .contains(&now)
        {
            return Ok(k.names.clone());
        }
        let names = Arc::new(type_names(db).await?);
        *self.kept.lock().unwrap_or_else(|e| e.into_inner()) = Some(KeptNames {
            generation,
            read_at: now,
            names: names.clone(),
        });
        Ok(names)
    }
}

/// Every (agent type id, version), for the "copy from" picker.
pub async fn all_ids(db: &Db) -> AppResult<Vec<(String, String)>> {
    let mut c = db.acquire().await?;
    Ok(agent_types::all_ids(c.conn()).await?)
}

/// A version as `scope` may see it: drafts are for staff; to a customer they do not exist.
pub async fn visible(
    db: &Db,
    scope: &Scope,
    agent_type_id: &str,
    version: &str,
) -> AppResult<StoredVersion> {
    let v = get(db, agent_type_id, version)
        .await?
        .ok_or(AppError::NotFound)?;
    if v.is_draft() && !scope.is_staff() {
        return Err(AppError::NotFound);
    }
    Ok(v)
}

/// The versions of a type `scope` may see, newest first (customers: published and retired only);
/// `NotFound` when there are none.
pub async fn visible_versions(
    db: &Db,
    scope: &Scope,
    agent_type_id: &str,
) -> AppResult<Vec<StoredVersion>> {
    let versions = versions_of(db, agent_type_id, !scope.is_staff()).await?;
    if versions.is_empty() {
        return Err(AppError::NotFound);
    }
    Ok(versions)
}

/// A stored version with its parsed definition.
#[derive(Debug, Clone)]
pub struct StoredVersion {
    pub row: VersionRow,
    pub definition: Definition,
}

impl StoredVersion {
    fn from_row(row: VersionRow) -> AppResult<StoredVersion> {
        let definition = serde_json::from_value(row.document.0.clone())
            .map_err(|e| anyhow::anyhow!("stored definition {} is unreadable: {e}", row.id))?;
        Ok(StoredVersion { row, definition })
    }

    pub fn is_draft(&self) -> bool {
        self.row.status == DRAFT
    }

    /// The stored status; an unknown one is an error, never a guess.
    pub fn status(&self) -> AppResult<VersionStatus> {
        VersionStatus::parse(&self.row.status).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "version {} has an unknown status {:?}",
                self.row.id,
                self.row.status
            ))
        })
    }

    fn audit_json(&self) -> Value {
        json!({"status": self.row.status, "definition": self.row.document.0})
    }
}

/// Parses and meta-validates a document: the definition, or every problem with its path.
pub fn check_document(doc: &Value) -> Result<Definition, Vec<Violation>> {
    let mut nul = vec![];
    find_nul(doc, "", &mut nul);
    if !nul.is_empty() {
        return Err(nul);
    }
    let d = Definition::from_json(doc)?;
    let problems = meta_validate(&d);
    if problems.is_empty() {
        Ok(d)
    } else {
        Err(problems)
    }
}

/// NUL characters cannot be stored in PostgreSQL's jsonb: refuse them on both engines alike.
fn find_nul(v: &Value, path: &str, out: &mut Vec<Violation>) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match v {
        Value::String(s) if s.contains('\0') => {
            out.push(Violation::new(path, "Remove the NUL character."))
        }
        Value::Object(m) => {
            for (k, x) in m {
                if k.contains('\0') {
                    out.push(Violation::new(join(k), "Remove the NUL character."));
                }
                find_nul(x, &join(k), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                find_nul(x, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// The one audit call of the catalog: every change to a version is recorded the same way.
async fn audit_version(
    tx: &mut Tx,
    actor: &Actor,
    id: &str,
    action: &str,
    before: Option<Value>,
    after: Option<Value>,
) -> AppResult<()> {
    audit::record(
        tx.conn(),
        actor,
        Change {
            entity_type: "agent_type_version",
            entity_id: id,
            action,
            before,
            after,
        },
    )
    .await?;
    Ok(())
}

/// Inserts a (meta-validated) definition as a version with this status; false when the version exists.
async fn insert_version(
    tx: &mut Tx,
    d: &Definition,
    status: &str,
    created_by: Option<i64>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<bool> {
    let version = Version::parse(&d.version).ok_or_else(|| {
        AppError::invalid(vec![Violation::new(
            "version",
            "Use a semantic version like 1.2.0.",
        )])
    })?;
    let document = serde_json::to_value(d).map_err(anyhow::Error::from)?;
    let new = NewVersion {
        agent_type_id: &d.agent_type_id,
        version: &d.version,
        version_sort: &version.sort_key(),
        status,
        display_name: d.name(),
        document: &document,
        created_by,
    };
    Ok(agent_types::insert(tx.conn(), &new, now).await?)
}

fn invalid(v: Vec<Violation>) -> AppError {
    AppError::invalid(v)
}

async fn load(tx: &mut Tx, agent_type_id: &str, version: &str) -> AppResult<StoredVersion> {
    let row = agent_types::get(tx.conn(), agent_type_id, version)
        .await?
        .ok_or(AppError::NotFound)?;
    StoredVersion::from_row(row)
}

pub async fn get(db: &Db, agent_type_id: &str, version: &str) -> AppResult<Option<StoredVersion>> {
    let mut c = db.acquire().await?;
    get_on(c.conn(), agent_type_id, version).await
}

/// [`get`] on a connection the caller already holds.
pub async fn get_on(
    c: Conn<'_>,
    agent_type_id: &str,
    version: &str,
) -> AppResult<Option<StoredVersion>> {
    match agent_types::get(c, agent_type_id, version).await? {
        Some(row) => Ok(Some(StoredVersion::from_row(row)?)),
        None => Ok(None),
    }
}

pub async fn versions_of(
    db: &Db,
    agent_type_id: &str,
    published_only: bool,
) -> AppResult<Vec<StoredVersion>> {
    let mut c = db.acquire().await?;
    agent_types::versions_of(c.conn(), agent_type_id, published_only)
        .await?
        .into_iter()
        .map(StoredVersion::from_row)
        .collect()
}

/// The newest version of every type (published ones only, unless `published_only` is false).
pub async fn newest_versions(db: &Db, published_only: bool) -> AppResult<Vec<StoredVersion>> {
    let mut c = db.acquire().await?;
    agent_types::newest_versions(c.conn(), published_only)
        .await?
        .into_iter()
        .map(StoredVersion::from_row)
        .collect()
}

pub async fn newest_published(db: &Db, agent_type_id: &str) -> AppResult<Option<StoredVersion>> {
    let mut c = db.acquire().await?;
    agent_types::newest_published(c.conn(), agent_type_id)
        .await?
        .map(StoredVersion::from_row)
        .transpose()
}

/// Stores a new draft version. 409 when that version exists, 422 with every problem otherwise.
pub async fn create_draft(db: &Db, actor: &Actor, doc: &Value) -> AppResult<StoredVersion> {
    let d = check_document(doc).map_err(invalid)?;
    let mut tx = db.begin().await?;
    if !insert_version(&mut tx, &d, DRAFT, actor.user_id, actor.now).await? {
        return Err(AppError::conflict(
            ErrorCode::VersionExists,
            format!(
                "Version {} of {} exists already. Choose another version number.",
                d.version, d.agent_type_id
            ),
        ));
    }
    let stored = load(&mut tx, &d.agent_type_id, &d.version).await?;
    audit_version(
        &mut tx,
        actor,
        &stored.row.id,
        "created",
        None,
        Some(stored.audit_json()),
    )
    .await?;
    tx.commit().await?;
    catalog_changed();
    Ok(stored)
}

/// A copy of an existing version under a new version number, as a draft.
pub async fn copy_as_draft(
    db: &Db,
    actor: &Actor,
    from_id: &str,
    new_version: &str,
) -> AppResult<StoredVersion> {
    let (type_id, version) = from_id.split_once('@').ok_or(AppError::NotFound)?;
    let source = get(db, type_id, version).await?.ok_or(AppError::NotFound)?;
    let mut doc = source.row.document.0.clone();
    doc["version"] = json!(new_version.trim());
    create_draft(db, actor, &doc).await
}

pub(crate) fn published_conflict(v: &StoredVersion) -> AppError {
    AppError::conflict(
        ErrorCode::VersionNotEditable,
        format!(
            "{} is {}, so it cannot change. Create a new version (for example {}) from it instead.",
            v.row.id,
            v.row.status,
            Version::parse(&v.row.version)
                .map(|v| v.bump_minor().to_string())
                .unwrap_or_else(|| "a higher one".into())
        ),
    )
}

/// Replaces a draft's document. Published and retired versions answer 409.
pub async fn update_draft(
    db: &Db,
    actor: &Actor,
    agent_type_id: &str,
    version: &str,
    doc: &Value,
) -> AppResult<StoredVersion> {
    // What the version is decides first (404, 409), then what the body says (422). The document
    // is checked before the write transaction (patterns are compiled then); the update itself is
    // conditional on the version still being a draft.
    let before = get(db, agent_type_id, version)
        .await?
        .ok_or(AppError::NotFound)?;
    if !before.is_draft() {
        return Err(published_conflict(&before));
    }
    let d = check_document(doc).map_err(invalid)?;
    let mut mismatched = vec![];
    if d.agent_type_id != agent_type_id {
        mismatched.push(Violation::new(
            "agent_type_id",
            format!("This is version {version} of {agent_type_id}; the id cannot change."),
        ));
    }
    if d.version != version {
        mismatched.push(Violation::new(
            "version",
            format!("This is version {version}; to use another number, create a new version."),
        ));
    }
    if !mismatched.is_empty() {
        return Err(invalid(mismatched));
    }
    let document = serde_json::to_value(&d).map_err(anyhow::Error::from)?;
    let mut tx = db.begin().await?;
    if !agent_types::update_document(tx.conn(), &before.row.id, d.name(), &document, actor.now)
        .await?
    {
        return Err(AppError::conflict(
            ErrorCode::VersionNotEditable,
            format!(
                "{} was published meanwhile; create a new version to change it.",
                before.row.id
            ),
        ));
    }
    let after = load(&mut tx, agent_type_id, version).await?;
    audit_version(
        &mut tx,
        actor,
        &after.row.id,
        "updated",
        Some(before.audit_json()),
        Some(after.audit_json()),
    )
    .await?;
    tx.commit().await?;
    catalog_changed();
    Ok(after)
}

/// draft → published (meta-validation must pass); published → retired. The definition is checked
/// before the write transaction; the update is conditional on the status and last change seen, so
/// a concurrent edit or status change makes this one a conflict instead of publishing unchecked
/// content.
pub async fn transition(
    db: &Db,
    actor: &Actor,
    agent_type_id: &str,
    version: &str,
    to: &str,
) -> AppResult<StoredVersion> {
    let to = VersionStatus::parse(to).ok_or_else(|| {
        AppError::bad_request(ErrorCode::BadRequest, format!("{to:?} is not a status."))
    })?;
    let before = get(db, agent_type_id, version)
        .await?
        .ok_or(AppError::NotFound)?;
    let from = before.status()?;
    let id = &before.row.id;
    from.transition(to).map_err(|refusal| {
        AppError::conflict(
            ErrorCode::StatusChangeRefused,
            match refusal {
                Refusal::Already(s) => format!("{id} is {s} already."),
                Refusal::DraftCannotRetire => {
                    format!("{id} is a draft: publish it first, or simply leave it.")
                }
                Refusal::RetiredStaysRetired => {
                    format!("{id} is retired and stays retired; publish a new version instead.")
                }
                Refusal::BackToDraft => format!("{id} is {from}; it cannot become a draft again."),
            },
        )
    })?;
    if to == VersionStatus::Published {
        let problems = meta_validate(&before.definition);
        if !problems.is_empty() {
            return Err(invalid(problems));
        }
    }
    let mut tx = db.begin().await?;
    if !agent_types::set_status(
        tx.conn(),
        id,
        from.as_str(),
        before.row.updated_at,
        to.as_str(),
        actor.user_id,
        actor.now,
    )
    .await?
    {
        return Err(AppError::conflict(
            ErrorCode::ChangedMeanwhile,
            format!("{id} was changed by someone else meanwhile; reload and try again."),
        ));
    }
    let after = load(&mut tx, agent_type_id, version).await?;
    audit_version(
        &mut tx,
        actor,
        &after.row.id,
        if to == VersionStatus::Published {
            "published"
        } else {
            "retired"
        },
        Some(json!({"status": before.row.status})),
        Some(json!({"status": after.row.status})),
    )
    .await?;
    tx.commit().await?;
    catalog_changed();
    Ok(after)
}

/// Loads the built-in definitions, published, unless that version exists already (a changed or
/// retired row is never overwritten). Returns the ids that were added.
pub async fn seed_builtins(db: &Db, actor: &Actor) -> AppResult<Vec<String>> {
    let mut added = vec![];
    for d in builtin::definitions() {
        let document = serde_json::to_value(&d).map_err(anyhow::Error::from)?;
        let mut tx = db.begin().await?;
        if insert_version(&mut tx, &d, PUBLISHED, None, actor.now).await? {
            audit_version(
                &mut tx,
                actor,
                &d.id(),
                "seeded",
                None,
                Some(json!({"status": PUBLISHED, "definition": document})),
            )
            .await?;
            added.push(d.id());
        }
        tx.commit().await?;
        catalog_changed();
    }
    Ok(added)
}
