//! The configuration form of a hired agent, generated from its pinned schema: the Configuration
//! tab (every field, nickname and theme included) and the wizard's steps 1–3 (one part each).
//! Saving keeps missing values (listed) but refuses a wrong one with its message next to it;
//! a save based on an older version shows the other person's values and keeps what was typed.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde_json::Value;

use super::{Head, Viewer, load};
use crate::db::hired_agents::HiredAgent;
use crate::domain::definition::{Definition, Schema};
use crate::domain::diff;
use crate::domain::form_rows;
use crate::domain::forms::{self, Submitted, Widget};
use crate::domain::hired_agent::{self as rules, OWN_FIELDS, full_config};
use crate::domain::schema::{self, Mode};
use crate::error::{AppError, AppResult, ErrorCode, Violation};
use crate::service::hired_agents::{self, Edit, Saved};
use crate::web::AppState;
use crate::web::forms::Form;
use crate::web::pages::{FormErrors, PageCtx, flash, render, see_other};
use crate::web::schema_forms::live_errors;

pub fn routes(cfg: &mut web::ServiceConfig, base: &str) {
    cfg.service(
        web::resource(format!("{base}/{{id}}/configuration"))
            .get(page)
            .post(submit),
    )
    .service(web::resource(format!("{base}/{{id}}/configuration/validate")).post(validate));
}

pub const PREFIX: &str = "config";
const ROW_VERSION: &str = "_row_version";

/// Which fields a form shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Every field (the Configuration tab).
    All,
    /// Wizard step 1.
    Nickname,
    /// Wizard step 2.
    Theme,
    /// Wizard step 3: everything but nickname and theme.
    Config,
}

impl Part {
    pub fn as_str(self) -> &'static str {
        match self {
            Part::All => "all",
            Part::Nickname => "nickname",
            Part::Theme => "theme",
            Part::Config => "config",
        }
    }

    /// The part of the schema this form shows.
    pub fn schema(self, full: &Schema) -> Schema {
        match self {
            Part::All => full.clone(),
            Part::Config => rules::config_only(full),
            Part::Nickname | Part::Theme => Schema {
                fields: full
                    .fields
                    .iter()
                    .filter(|f| f.key == self.as_str())
                    .cloned()
                    .collect(),
                rules: vec![],
            },
        }
    }

    fn has_config(self) -> bool {
        matches!(self, Part::All | Part::Config)
    }
}

/// A line of "their version": a field someone else changed, and what this person typed.
pub struct ConflictLine {
    pub label: String,
    pub theirs: String,
    pub yours: String,
}

/// Everything a configuration form needs to render.
pub struct ConfigForm {
    pub widgets: Vec<Widget>,
    pub errors: FormErrors,
    /// (widget id, message) of the summary's links.
    pub error_links: Vec<(String, String)>,
    pub missing: Vec<(String, String)>,
    pub conflict: Vec<ConflictLine>,
    pub conflict_message: String,
    pub row_version: String,
    pub action: String,
    pub validate: String,
    pub submit_label: String,
    pub readonly: bool,
    /// Extra hidden inputs (the wizard's step).
    pub hidden: Vec<(String, String)>,
}

/// The value a form for `h` starts from: its config with nickname and theme in it (and a theme
/// preselected as the schema's default for a new agent).
pub fn current_value(h: Option<&HiredAgent>) -> Value {
    match h {
        Some(h) => full_config(&h.config.0, h.nickname.as_deref(), h.theme.as_deref()),
        None => Value::Object(Default::default()),
    }
}

/// Builds the form view for `value` with `errors`.
#[allow(clippy::too_many_arguments)]
pub fn form_view(
    d: &Definition,
    part: Part,
    value: &Value,
    errors: Vec<Violation>,
    row_version: Option<i64>,
    action: String,
    validate: String,
    submit_label: &str,
    readonly: bool,
) -> ConfigForm {
    let s = part.schema(&d.config_schema);
    // A new agent's theme starts at the schema's default (the wizard preselects it).
    let shown = schema::with_defaults(&s.fields, value);
    let missing = schema::missing_required(&s, value)
        .into_iter()
        .map(|v| (forms::owner_id(&s.fields, PREFIX, &v.path), v.message))
        .collect();
    let error_links = errors
        .iter()
        .map(|v| {
            (
                forms::owner_id(&s.fields, PREFIX, &v.path),
                v.message.clone(),
            )
        })
        .collect();
    ConfigForm {
        widgets: forms::schema_widgets(&s, PREFIX, &shown, &errors),
        errors: FormErrors(errors),
        error_links,
        missing,
        conflict: vec![],
        conflict_message: String::new(),
        row_version: row_version.map(|v| v.to_string()).unwrap_or_default(),
        action,
        validate,
        submit_label: submit_label.to_string(),
        readonly,
        hidden: vec![],
    }
}

/// What a submitted form asks to save.
pub struct Submission {
    pub value: Value,
    pub edit: Edit,
}

/// Reads a submitted form for `part`: the typed value (for showing again) and the edit.
pub fn read(
    d: &Definition,
    part: Part,
    h: Option<&HiredAgent>,
    pairs: &[(String, String)],
) -> Submission {
    let s = part.schema(&d.config_schema);
    let previous = current_value(h);
    let form = Submitted::new(pairs);
    let typed = forms::parse(&s.fields, PREFIX, &form, &previous);
    let row_version = form.first(ROW_VERSION).and_then(|v| v.parse().ok());
    let own = |k: &str| -> Option<String> {
        s.field(k).map(|_| {
            typed
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        })
    };
    let config = part.has_config().then(|| {
        // The stored config, with this part's fields replaced by what was typed.
        let mut merged = h
            .map(|h| h.config.0.clone())
            .unwrap_or_else(|| Value::Object(Default::default()));
        if let (Value::Object(m), Value::Object(t)) = (&mut merged, &typed) {
            for f in &s.fields {
                if OWN_FIELDS.contains(&f.key.as_str()) {
                    continue;
                }
                match t.get(&f.key) {
                    Some(v) => m.insert(f.key.clone(), v.clone()),
                    None => m.remove(&f.key),
                };
            }
        }
        merged
    });
    let new_secrets = config
        .as_ref()
        .map(|c| rules::typed_secrets(&d.config_schema, c))
        .unwrap_or_default();
    Submission {
        // Never shown again: typed secrets go back to what was stored.
        value: rules::without_typed_secrets(&d.config_schema, &typed, &previous),
        edit: Edit {
            nickname: own("nickname"),
            theme: own("theme"),
            config,
            new_secrets,
            row_version,
            ..Edit::default()
        },
    }
}

/// Why a save did not happen, ready to show.
pub enum Refusal {
    Invalid(Vec<Violation>),
    /// Someone saved first (the caller reloads their version).
    Conflict,
}

/// Splits a save's error into what the form shows, or passes any other error on.
pub fn refusal(e: AppError) -> AppResult<Refusal> {
    match e {
        AppError::Invalid { violations, .. } => Ok(Refusal::Invalid(violations)),
        AppError::Conflict {
            code: ErrorCode::ChangedMeanwhile,
            ..
        } => Ok(Refusal::Conflict),
        other => Err(other),
    }
}

/// The lines of "their version": every field of `part` where the saved agent differs from what
/// was typed (secrets named, never shown).
pub fn conflict_lines(
    d: &Definition,
    part: Part,
    theirs: &HiredAgent,
    typed: &Value,
) -> Vec<ConflictLine> {
    let s = part.schema(&d.config_schema);
    let now = current_value(Some(theirs));
    s.fields
        .iter()
        .filter_map(|f| {
            let a = now.get(&f.key);
            let b = typed.get(&f.key);
            if a == b {
                return None;
            }
            let secret = f.secret_ref || rules::is_credential_map(f);
            Some(ConflictLine {
                label: f.label.clone(),
                theirs: if secret {
                    "(a stored secret)".into()
                } else {
                    diff::show(a)
                },
                yours: if secret {
                    "(a stored secret)".into()
                } else {
                    diff::show(b)
                },
            })
        })
        .collect()
}

#[derive(Template)]
#[template(path = "agents/configuration.html")]
struct ConfigurationPage {
    ctx: PageCtx,
    head: Head,
    form: ConfigForm,
    configured: bool,
}

fn tab_form(
    d: &Definition,
    v: &Viewer,
    h: &HiredAgent,
    value: &Value,
    errors: Vec<Violation>,
    row_version: i64,
) -> ConfigForm {
    let head_href = format!("{}/{}", v.base, h.id);
    form_view(
        d,
        Part::All,
        value,
        errors,
        Some(row_version),
        format!("{head_href}/configuration"),
        format!("{head_href}/configuration/validate"),
        "Save configuration",
        !(v.can_write && h.subscription_status == "active"),
    )
}

async fn page(
    state: web::Data<AppState>,
    v: Viewer,
    ctx: PageCtx,
    path: web::Path<String>,
) -> AppResult<HttpResponse> {
    let h = load(&state, &v, &path).await?;
    let d = hired_agents::definition_of(&state.db, &h).await?;
    let form = tab_form(&d, &v, &h, &current_value(Some(&h)), vec![], h.row_version);
    render(
        StatusCode::OK,
        &ConfigurationPage {
            ctx,
            head: Head::of(&h, &v, "configuration"),
            configured: h.configured,
            form,
        },
    )
}

/// Saves `submission` for an existing agent, or says why not. On a conflict the form shows the
/// other person's version and keeps the typed values, based on the new version.
pub async fn save_existing(
    state: &AppState,
    v: &Viewer,
    h: &HiredAgent,
    submission: Submission,
) -> AppResult<Result<Saved, (Vec<Violation>, Option<HiredAgent>)>> {
    let r = hired_agents::save(
        &state.db,
        &state.keys,
        &state.settings.billing,
        &v.actor,
        &v.scope,
        &h.id,
        submission.edit,
    )
    .await;
    match r {
        Ok(saved) => Ok(Ok(saved)),
        Err(e) => match refusal(e)? {
            Refusal::Invalid(errors) => Ok(Err((errors, None))),
            Refusal::Conflict => {
                let theirs = load(state, v, &h.id).await?;
                Ok(Err((vec![], Some(theirs))))
            }
        },
    }
}

async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    v: Viewer,
    ctx: PageCtx,
    path: web::Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let h = load(&state, &v, &path).await?;
    let d = hired_agents::definition_of(&state.db, &h).await?;
    // "+ Add entry" or "✕" without JavaScript: the form comes back changed, nothing saved.
    if let Some(op) = form_rows::requested(&pairs) {
        let pairs = form_rows::apply(&pairs, &op);
        let sub = read(&d, Part::All, Some(&h), &pairs);
        let rv = sub.edit.row_version.unwrap_or(h.row_version);
        let form = tab_form(&d, &v, &h, &sub.value, vec![], rv);
        return render(
            StatusCode::OK,
            &ConfigurationPage {
                ctx,
                head: Head::of(&h, &v, "configuration"),
                configured: h.configured,
                form,
            },
        );
    }
    let sub = read(&d, Part::All, Some(&h), &pairs);
    let typed = sub.value.clone();
    match save_existing(&state, &v, &h, sub).await? {
        Ok(saved) => {
            flash(
                &req,
                "success",
                if saved.agent.configured {
                    "Configuration saved. Everything required is filled in.".to_string()
                } else {
                    format!(
                        "Draft saved. Still to fill in: {}.",
                        saved.missing.len().max(1)
                    )
                },
            );
            Ok(see_other(&format!("{}/{}/configuration", v.base, h.id)))
        }
        Err((errors, None)) => {
            let form = tab_form(&d, &v, &h, &typed, errors, h.row_version);
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ConfigurationPage {
                    ctx,
                    head: Head::of(&h, &v, "configuration"),
                    configured: h.configured,
                    form,
                },
            )
        }
        Err((_, Some(theirs))) => {
            let mut form = tab_form(&d, &v, &theirs, &typed, vec![], theirs.row_version);
            form.conflict = conflict_lines(&d, Part::All, &theirs, &typed);
            form.conflict_message = hired_agents::CHANGED_MEANWHILE.into();
            render(
                StatusCode::CONFLICT,
                &ConfigurationPage {
                    ctx,
                    head: Head::of(&theirs, &v, "configuration"),
                    configured: theirs.configured,
                    form,
                },
            )
        }
    }
}

/// Live validation as a field is left (draft mode: only what was entered is judged).
pub fn live(
    d: &Definition,
    part: Part,
    h: Option<&HiredAgent>,
    pairs: &[(String, String)],
) -> AppResult<HttpResponse> {
    let s = part.schema(&d.config_schema);
    let previous = current_value(h);
    let mut typed = forms::parse(&s.fields, PREFIX, &Submitted::new(pairs), &previous);
    // A typed secret will become a stored credential: judge it as the reference it becomes.
    for (p, _) in rules::typed_secrets(&d.config_schema, &typed) {
        rules::set_path(&mut typed, &p, Value::String("CRED-pending".into()));
    }
    let full = match (part, h) {
        (Part::Config, Some(h)) => full_config(&typed, h.nickname.as_deref(), h.theme.as_deref()),
        _ => typed,
    };
    let errors: Vec<Violation> = schema::validate(&d.config_schema, &full, Mode::Draft)
        .into_iter()
        .filter(|e| {
            let root = e.path.split(['.', '[']).next().unwrap_or_default();
            s.field(root).is_some()
        })
        .collect();
    live_errors(&s.fields, PREFIX, &errors)
}

async fn validate(
    state: web::Data<AppState>,
    v: Viewer,
    path: web::Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<HttpResponse> {
    let h = load(&state, &v, &path).await?;
    let d = hired_agents::definition_of(&state.db, &h).await?;
    live(&d, Part::All, Some(&h), &pairs)
}
