//! The draft editor: a structured editor (fields, rules and goal templates, each property an input)
//! and a raw JSON editor over the same document. Every button posts the whole editor back with an
//! `op`, so adding, removing and reordering work without JavaScript; htmx makes them instant and
//! validates live, putting each meta-validation error next to the input it concerns.

use std::collections::HashMap;

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde_json::{Value, json};

use crate::catalog;
use crate::domain::definition::{
    Definition, EnforcementDefaults, FIELD_KEYS, FREQUENCIES, Field, FieldType, GoalTemplate, Rule,
    Schema, meta_validate,
};
use crate::domain::forms::dom_id;
use crate::error::{AppError, Violation};
use crate::web::AppState;
use crate::web::auth::{Admin, audit_context};
use crate::web::forms::Form;
use crate::web::pages::{FormErrors, PageCtx, flash, render, see_other};
use crate::web::schema_forms::ErrorsOob;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/admin/agent-types/{type_id}/versions/{version}/edit")
            .get(edit_page)
            .post(edit_submit),
    );
}

/// A field as the editor's inputs hold it (all text).
#[derive(Debug, Clone, Default)]
pub struct FieldRow {
    pub prefix: String,
    pub index: usize,
    pub key: String,
    pub label: String,
    pub field_type: String,
    pub required: bool,
    pub description: String,
    pub options: String,
    pub item_type: String,
    pub default: String,
    pub min: String,
    pub max: String,
    pub exclusive_min: bool,
    pub min_length: String,
    pub max_length: String,
    pub pattern: String,
    pub min_items: String,
    pub max_items: String,
    pub secret_ref: bool,
    pub sub_fields: String,
    pub last: bool,
}

/// The input name of one property of an editor row (`cf[3].label`), and its element id.
fn input_name(prefix: &str, prop: &str) -> String {
    format!("{prefix}.{prop}")
}

fn input_id(prefix: &str, prop: &str) -> String {
    dom_id(&input_name(prefix, prop))
}

impl FieldRow {
    pub fn name(&self, prop: &str) -> String {
        input_name(&self.prefix, prop)
    }
    pub fn id(&self, prop: &str) -> String {
        input_id(&self.prefix, prop)
    }
    pub fn title(&self) -> String {
        if self.key.is_empty() {
            format!("New field {}", self.index + 1)
        } else {
            format!("{} ({})", self.label, self.key)
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct RuleRow {
    pub prefix: String,
    pub kind: String,
    pub field: String,
    pub other: String,
}

impl RuleRow {
    pub fn name(&self, prop: &str) -> String {
        input_name(&self.prefix, prop)
    }
    pub fn id(&self, prop: &str) -> String {
        input_id(&self.prefix, prop)
    }
}

#[derive(Debug, Clone, Default)]
pub struct TemplateRow {
    pub prefix: String,
    pub index: usize,
    pub goal_template_id: String,
    pub name: String,
    pub description: String,
    pub default_frequency: String,
    pub allowed: Vec<(&'static str, bool)>,
    pub skill_binding: String,
    pub fields: Vec<FieldRow>,
    pub rules: Vec<RuleRow>,
    pub last: bool,
}

impl TemplateRow {
    pub fn name_of(&self, prop: &str) -> String {
        input_name(&self.prefix, prop)
    }
    pub fn id(&self, prop: &str) -> String {
        input_id(&self.prefix, prop)
    }
}

fn number_text(v: Option<f64>) -> String {
    match v {
        Some(n) if n.fract() == 0.0 && n.abs() < 9e15 => format!("{}", n as i64),
        Some(n) => n.to_string(),
        None => String::new(),
    }
}

fn default_text(v: &Option<Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items))
            if items
                .iter()
                .all(|i| i.is_string() && !i.as_str().unwrap_or_default().contains(',')) =>
        {
            items
                .iter()
                .filter_map(|i| i.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
        Some(other) => other.to_string(),
    }
}

fn field_row(prefix: &str, index: usize, f: &Field, last: bool) -> FieldRow {
    FieldRow {
        prefix: format!("{prefix}[{index}]"),
        index,
        key: f.key.clone(),
        label: f.label.clone(),
        field_type: f.field_type.as_str().into(),
        required: f.required,
        description: f.description.clone().unwrap_or_default(),
        options: f.options.clone().unwrap_or_default().join("\n"),
        item_type: f
            .item_type
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        default: default_text(&f.default),
        min: number_text(f.min),
        max: number_text(f.max),
        exclusive_min: f.exclusive_min,
        min_length: f.min_length.map(|n| n.to_string()).unwrap_or_default(),
        max_length: f.max_length.map(|n| n.to_string()).unwrap_or_default(),
        pattern: f.pattern.clone().unwrap_or_default(),
        min_items: f.min_items.map(|n| n.to_string()).unwrap_or_default(),
        max_items: f.max_items.map(|n| n.to_string()).unwrap_or_default(),
        secret_ref: f.secret_ref,
        sub_fields: f
            .fields
            .as_ref()
            .filter(|s| !s.is_empty())
            .map(|s| serde_json::to_string_pretty(s).unwrap_or_default())
            .unwrap_or_default(),
        last,
    }
}

fn rule_rows(prefix: &str, rules: &[Rule]) -> Vec<RuleRow> {
    rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (kind, field, other) = match r {
                Rule::MemberOf { field, of } => ("member_of", field, of),
                Rule::Covers { field, keys_from } => ("covers", field, keys_from),
            };
            RuleRow {
                prefix: format!("{prefix}[{i}]"),
                kind: kind.into(),
                field: field.clone(),
                other: other.clone(),
            }
        })
        .collect()
}

fn field_rows(prefix: &str, fields: &[Field]) -> Vec<FieldRow> {
    let n = fields.len();
    fields
        .iter()
        .enumerate()
        .map(|(i, f)| field_row(prefix, i, f, i + 1 == n))
        .collect()
}

/// The editor's view of a definition.
pub struct Doc {
    pub agent_type_id: String,
    pub version: String,
    pub display_name: String,
    pub description: String,
    pub approval_required: bool,
    pub deterministic: bool,
    pub fields: Vec<FieldRow>,
    pub rules: Vec<RuleRow>,
    pub templates: Vec<TemplateRow>,
}

fn doc_of(d: &Definition) -> Doc {
    let n = d.goal_templates.len();
    Doc {
        agent_type_id: d.agent_type_id.clone(),
        version: d.version.clone(),
        display_name: d.display_name.clone().unwrap_or_default(),
        description: d.description.clone().unwrap_or_default(),
        approval_required: d.enforcement_defaults.approval_required,
        deterministic: d.enforcement_defaults.deterministic,
        fields: field_rows("cf", &d.config_schema.fields),
        rules: rule_rows("cr", &d.config_schema.rules),
        templates: d
            .goal_templates
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let prefix = format!("gt[{i}]");
                TemplateRow {
                    index: i,
                    goal_template_id: t.goal_template_id.clone(),
                    name: t.name.clone(),
                    description: t.description.clone().unwrap_or_default(),
                    default_frequency: t.default_frequency.clone(),
                    allowed: FREQUENCIES
                        .iter()
                        .map(|f| {
                            (
                                *f,
                                t.allowed_frequencies
                                    .as_ref()
                                    .is_some_and(|a| a.iter().any(|x| x == f)),
                            )
                        })
                        .collect(),
                    skill_binding: t.skill_binding.clone().unwrap_or_default(),
                    fields: field_rows(&format!("{prefix}.sf"), &t.settings_schema.fields),
                    rules: rule_rows(&format!("{prefix}.sr"), &t.settings_schema.rules),
                    last: i + 1 == n,
                    prefix,
                }
            })
            .collect(),
    }
}

/// The submitted editor, by input name.
struct Inputs(HashMap<String, Vec<String>>);

impl Inputs {
    fn get(&self, name: &str) -> String {
        self.0
            .get(name)
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default()
    }
    fn all(&self, name: &str) -> Vec<String> {
        self.0.get(name).cloned().unwrap_or_default()
    }
    fn checked(&self, name: &str) -> bool {
        self.0
            .get(name)
            .is_some_and(|v| v.iter().any(|x| x == "true"))
    }
    /// Row indexes present under `prefix` (`cf` → 0, 1, 4 from `cf[0].__row`, …), in order.
    fn rows(&self, prefix: &str) -> Vec<usize> {
        let start = format!("{prefix}[");
        let mut idx: Vec<usize> = self
            .0
            .keys()
            .filter_map(|k| k.strip_prefix(&start))
            .filter_map(|rest| rest.split_once("].__row"))
            .filter(|(_, tail)| tail.is_empty())
            .filter_map(|(n, _)| n.parse().ok())
            .collect();
        idx.sort_unstable();
        idx.dedup();
        idx
    }
}

fn opt_text(s: String) -> Option<String> {
    let t = s.trim().to_string();
    (!t.is_empty()).then_some(t)
}

fn parse_num(inputs: &Inputs, name: &str, problems: &mut Vec<Violation>) -> Option<f64> {
    let t = inputs.get(name).trim().to_string();
    if t.is_empty() {
        return None;
    }
    match t.parse::<f64>() {
        Ok(n) if n.is_finite() => Some(n),
        _ => {
            problems.push(Violation::new(name, "Enter a number."));
            None
        }
    }
}

fn parse_count(inputs: &Inputs, name: &str, problems: &mut Vec<Violation>) -> Option<u64> {
    let t = inputs.get(name).trim().to_string();
    if t.is_empty() {
        return None;
    }
    match t.parse::<u64>() {
        Ok(n) => Some(n),
        _ => {
            problems.push(Violation::new(name, "Enter a whole number, 0 or more."));
            None
        }
    }
}

/// A default typed as text, read the way its field type suggests (JSON for lists and objects, or
/// comma-separated values for a list); what cannot be read stays text so meta-validation names it.
fn parse_default(text: &str, t: Option<FieldType>, item: Option<FieldType>) -> Option<Value> {
    let s = text.trim();
    if s.is_empty() {
        return None;
    }
    let number = |s: &str, integer: bool| -> Value {
        if let Ok(i) = s.parse::<i64>() {
            return json!(i);
        }
        match s.parse::<f64>() {
            Ok(f) if f.is_finite() && !(integer && f.fract() == 0.0) => json!(f),
            Ok(f) if f.is_finite() => json!(f as i64),
            _ => json!(s),
        }
    };
    Some(match t {
        Some(FieldType::Number) => number(s, false),
        Some(FieldType::Integer) => number(s, true),
        Some(FieldType::Boolean) => match s.to_lowercase().as_str() {
            "true" | "yes" => json!(true),
            "false" | "no" => json!(false),
            _ => json!(s),
        },
        Some(FieldType::List) if s.starts_with('[') => serde_json::from_str(s).unwrap_or(json!(s)),
        Some(FieldType::List) => Value::Array(
            s.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(|x| match item {
                    Some(FieldType::Number) => number(x, false),
                    Some(FieldType::Integer) => number(x, true),
                    _ => json!(x),
                })
                .collect(),
        ),
        Some(FieldType::Object) => serde_json::from_str(s).unwrap_or(json!(s)),
        _ => json!(s),
    })
}

fn parse_fields(inputs: &Inputs, prefix: &str, problems: &mut Vec<Violation>) -> Vec<Field> {
    inputs
        .rows(prefix)
        .into_iter()
        .map(|i| {
            let p = format!("{prefix}[{i}]");
            let n = |prop: &str| format!("{p}.{prop}");
            let type_text = inputs.get(&n("type"));
            let field_type = FieldType::parse(&type_text);
            if field_type.is_none() {
                problems.push(Violation::new(n("type"), "Choose a type."));
            }
            let item_type = FieldType::parse(&inputs.get(&n("item_type")));
            let options: Vec<String> = inputs
                .get(&n("options"))
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            let sub_text = inputs.get(&n("fields"));
            let fields = if sub_text.trim().is_empty() {
                None
            } else {
                match serde_json::from_str::<Vec<Field>>(&sub_text) {
                    Ok(f) => Some(f),
                    Err(e) => {
                        problems.push(Violation::new(
                            n("fields"),
                            format!("Sub-fields must be a JSON list of fields: {e}."),
                        ));
                        None
                    }
                }
            };
            let ft = field_type.unwrap_or(FieldType::Text);
            Field {
                key: inputs.get(&n("key")).trim().to_string(),
                label: inputs.get(&n("label")).trim().to_string(),
                field_type: ft,
                required: inputs.checked(&n("required")),
                description: opt_text(inputs.get(&n("description"))),
                options: (!options.is_empty()).then_some(options),
                item_type: if ft == FieldType::List {
                    item_type
                } else {
                    None
                },
                default: parse_default(&inputs.get(&n("default")), Some(ft), item_type),
                min: parse_num(inputs, &n("min"), problems),
                max: parse_num(inputs, &n("max"), problems),
                exclusive_min: inputs.checked(&n("exclusive_min")),
                min_length: parse_count(inputs, &n("min_length"), problems),
                max_length: parse_count(inputs, &n("max_length"), problems),
                pattern: opt_text(inputs.get(&n("pattern"))),
                min_items: parse_count(inputs, &n("min_items"), problems),
                max_items: parse_count(inputs, &n("max_items"), problems),
                secret_ref: inputs.checked(&n("secret_ref")),
                fields,
            }
        })
        .collect()
}

fn parse_rules(inputs: &Inputs, prefix: &str, problems: &mut Vec<Violation>) -> Vec<Rule> {
    inputs
        .rows(prefix)
        .into_iter()
        .filter_map(|i| {
            let p = format!("{prefix}[{i}]");
            let field = inputs.get(&format!("{p}.field")).trim().to_string();
            let other = inputs.get(&format!("{p}.other")).trim().to_string();
            match inputs.get(&format!("{p}.kind")).as_str() {
                "member_of" => Some(Rule::MemberOf { field, of: other }),
                "covers" => Some(Rule::Covers {
                    field,
                    keys_from: other,
                }),
                _ => {
                    problems.push(Violation::new(
                        format!("{p}.kind"),
                        "Choose the kind of rule.",
                    ));
                    None
                }
            }
        })
        .collect()
}

/// The structured editor's inputs → a definition, plus problems only the editor can see (text where a
/// number belongs, unreadable sub-field JSON), named by input.
fn parse_structured(inputs: &Inputs, type_id: &str, version: &str) -> (Definition, Vec<Violation>) {
    let mut problems = vec![];
    let config_schema = Schema {
        fields: parse_fields(inputs, "cf", &mut problems),
        rules: parse_rules(inputs, "cr", &mut problems),
    };
    let goal_templates = inputs
        .rows("gt")
        .into_iter()
        .map(|i| {
            let p = format!("gt[{i}]");
            let allowed: Vec<String> = inputs
                .all(&format!("{p}.allowed_frequencies"))
                .into_iter()
                .filter(|f| FREQUENCIES.contains(&f.as_str()))
                .collect();
            GoalTemplate {
                goal_template_id: inputs
                    .get(&format!("{p}.goal_template_id"))
                    .trim()
                    .to_string(),
                name: inputs.get(&format!("{p}.name")).trim().to_string(),
                default_frequency: inputs.get(&format!("{p}.default_frequency")),
                allowed_frequencies: (!allowed.is_empty()).then_some(allowed),
                settings_schema: Schema {
                    fields: parse_fields(inputs, &format!("{p}.sf"), &mut problems),
                    rules: parse_rules(inputs, &format!("{p}.sr"), &mut problems),
                },
                skill_binding: opt_text(inputs.get(&format!("{p}.skill_binding"))),
                description: opt_text(inputs.get(&format!("{p}.description"))),
            }
        })
        .collect();
    let d = Definition {
        agent_type_id: type_id.to_string(),
        version: version.to_string(),
        display_name: opt_text(inputs.get("display_name")),
        description: opt_text(inputs.get("description")),
        config_schema,
        goal_templates,
        enforcement_defaults: EnforcementDefaults {
            approval_required: inputs.checked("approval_required"),
            deterministic: inputs.checked("deterministic"),
        },
    };
    (d, problems)
}

/// Inputs the parser could not read (text in a number box, broken sub-field JSON) are shown again as
/// they were typed, next to their error, instead of coming back empty.
fn overlay_raw(doc: &mut Doc, inputs: &Inputs, problems: &[Violation]) {
    let patch = |r: &mut FieldRow| {
        for prop in [
            "min",
            "max",
            "min_length",
            "max_length",
            "min_items",
            "max_items",
            "fields",
        ] {
            let name = r.name(prop);
            if problems.iter().any(|v| v.path == name) {
                let raw = inputs.get(&name);
                match prop {
                    "min" => r.min = raw,
                    "max" => r.max = raw,
                    "min_length" => r.min_length = raw,
                    "max_length" => r.max_length = raw,
                    "min_items" => r.min_items = raw,
                    "max_items" => r.max_items = raw,
                    _ => r.sub_fields = raw,
                }
            }
        }
    };
    doc.fields.iter_mut().for_each(patch);
    for t in doc.templates.iter_mut() {
        t.fields.iter_mut().for_each(patch);
    }
}

/// A meta-validation path (`goal_templates[1].settings_schema.fields[0].default`) → the editor input
/// that holds it (`gt[1].sf[0].default`).
pub fn input_for(path: &str) -> String {
    fn field_part(rest: &str) -> String {
        // rest: "fields[3].default" / "fields[3].options[1]" / "fields[3].fields[0].key" / "rules[0].of"
        let (head, tail) = rest
            .split_once("].")
            .map(|(h, t)| (format!("{h}]"), t))
            .unwrap_or((rest.to_string(), ""));
        let prop = tail.split(['.', '[']).next().unwrap_or("");
        let prop = match prop {
            "of" | "keys_from" => "other",
            p => p,
        };
        let head = head
            .replacen("fields[", "f[", 1)
            .replacen("rules[", "r[", 1);
        if prop.is_empty() {
            head
        } else {
            format!("{head}.{prop}")
        }
    }
    if let Some(rest) = path.strip_prefix("config_schema.") {
        return format!("c{}", field_part(rest));
    }
    if let Some(rest) = path.strip_prefix("goal_templates[") {
        let (n, tail) = rest.split_once(']').unwrap_or((rest, ""));
        let tail = tail.trim_start_matches('.');
        if let Some(s) = tail.strip_prefix("settings_schema.") {
            return format!("gt[{n}].s{}", field_part(s));
        }
        let prop = tail.split(['.', '[']).next().unwrap_or("");
        return format!("gt[{n}].{prop}");
    }
    if let Some(p) = path.strip_prefix("enforcement_defaults.") {
        return p.to_string();
    }
    path.to_string()
}

/// Every input name of the editor for this document (to clear or fill each error slot).
fn input_names(doc: &Doc) -> Vec<String> {
    let mut names: Vec<String> = [
        "display_name",
        "description",
        "approval_required",
        "deterministic",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let fields = |rows: &[FieldRow], names: &mut Vec<String>| {
        for r in rows {
            names.extend(FIELD_KEYS.iter().map(|p| r.name(p)));
        }
    };
    let rules = |rows: &[RuleRow], names: &mut Vec<String>| {
        for r in rows {
            names.extend(["kind", "field", "other"].iter().map(|p| r.name(p)));
        }
    };
    fields(&doc.fields, &mut names);
    rules(&doc.rules, &mut names);
    for t in &doc.templates {
        names.extend(
            [
                "goal_template_id",
                "name",
                "description",
                "default_frequency",
                "allowed_frequencies",
                "skill_binding",
            ]
            .iter()
            .map(|p| t.name_of(p)),
        );
        fields(&t.fields, &mut names);
        rules(&t.rules, &mut names);
    }
    names
}

#[derive(Template)]
#[template(path = "admin/agent_type_editor.html")]
struct EditorPage {
    ctx: PageCtx,
    type_id: String,
    version: String,
    mode: &'static str,
    doc: Doc,
    json: String,
    /// Keyed by input name.
    errors: FormErrors,
    /// By document path, for the summary and the JSON mode.
    problems: Vec<Violation>,
    types: Vec<&'static str>,
    item_types: Vec<&'static str>,
    frequencies: Vec<&'static str>,
}

async fn load_draft(
    state: &AppState,
    type_id: &str,
    version: &str,
) -> Result<catalog::StoredVersion, AppError> {
    let v = catalog::get(&state.db, type_id, version)
        .await?
        .ok_or(AppError::NotFound)?;
    if !v.is_draft() {
        return Err(AppError::conflict(
            crate::error::ErrorCode::VersionNotEditable,
            format!(
                "{} is {} and cannot be edited. Create a new version from it to make changes.",
                v.row.id, v.row.status
            ),
        ));
    }
    Ok(v)
}

fn page(
    raw: Option<&Inputs>,
    ctx: PageCtx,
    (type_id, version): (&str, &str),
    mode: &'static str,
    d: &Definition,
    json: Option<String>,
    problems: Vec<Violation>,
) -> EditorPage {
    let errors = FormErrors(
        problems
            .iter()
            .map(|v| Violation::new(input_for(&v.path), v.message.clone()))
            .collect(),
    );
    let mut p = EditorPage {
        ctx,
        type_id: type_id.to_string(),
        version: version.to_string(),
        mode,
        doc: doc_of(d),
        json: json.unwrap_or_else(|| serde_json::to_string_pretty(d).unwrap_or_default()),
        errors,
        problems,
        types: FieldType::ALL.iter().map(|t| t.as_str()).collect(),
        item_types: vec!["text", "enum", "number", "integer"],
        frequencies: FREQUENCIES.to_vec(),
    };
    if let Some(inputs) = raw
        && mode == "structured"
    {
        overlay_raw(&mut p.doc, inputs, &p.errors.0);
    }
    p
}

async fn edit_page(
    state: web::Data<AppState>,
    _admin: Admin,
    ctx: PageCtx,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (type_id, version) = path.into_inner();
    let v = load_draft(&state, &type_id, &version).await?;
    render(
        StatusCode::OK,
        &page(
            None,
            ctx,
            (&type_id, &version),
            "structured",
            &v.definition,
            None,
            vec![],
        ),
    )
}

/// Applies a structural edit (`add_field:cf`, `remove:gt[1].sf[2]`, `up:cf[3]`, …) to the document.
fn apply_op(d: &mut Definition, op: &str) {
    fn fields_at<'a>(d: &'a mut Definition, list: &str) -> Option<&'a mut Vec<Field>> {
        if list == "cf" {
            return Some(&mut d.config_schema.fields);
        }
        let t: usize = list
            .strip_prefix("gt[")?
            .strip_suffix("].sf")?
            .parse()
            .ok()?;
        d.goal_templates
            .get_mut(t)
            .map(|t| &mut t.settings_schema.fields)
    }
    fn rules_at<'a>(d: &'a mut Definition, list: &str) -> Option<&'a mut Vec<Rule>> {
        if list == "cr" {
            return Some(&mut d.config_schema.rules);
        }
        let t: usize = list
            .strip_prefix("gt[")?
            .strip_suffix("].sr")?
            .parse()
            .ok()?;
        d.goal_templates
            .get_mut(t)
            .map(|t| &mut t.settings_schema.rules)
    }
    fn split_item(target: &str) -> Option<(&str, usize)> {
        let (list, rest) = target.rsplit_once('[')?;
        Some((list, rest.strip_suffix(']')?.parse().ok()?))
    }
    fn shift<T>(v: &mut [T], i: usize, up: bool) {
        if up && i > 0 && i < v.len() {
            v.swap(i, i - 1);
        } else if !up && i + 1 < v.len() {
            v.swap(i, i + 1);
        }
    }
    let (verb, target) = op.split_once(':').unwrap_or((op, ""));
    match verb {
        "add_field" => {
            if let Some(f) = fields_at(d, target) {
                let mut new = Field::new("", "", FieldType::Text);
                new.label.clear();
                f.push(new);
            }
        }
        "add_rule" => {
            if let Some(r) = rules_at(d, target) {
                r.push(Rule::MemberOf {
                    field: String::new(),
                    of: String::new(),
                });
            }
        }
        "add_template" => d.goal_templates.push(GoalTemplate {
            goal_template_id: String::new(),
            name: String::new(),
            default_frequency: "weekly".into(),
            allowed_frequencies: None,
            settings_schema: Schema::default(),
            skill_binding: None,
            description: None,
        }),
        "remove" | "up" | "down" => {
            let Some((list, i)) = split_item(target) else {
                return;
            };
            let up = verb == "up";
            if list == "gt" {
                if verb == "remove" {
                    if i < d.goal_templates.len() {
                        d.goal_templates.remove(i);
                    }
                } else {
                    shift(&mut d.goal_templates, i, up);
                }
            } else if list.ends_with("sr") || list == "cr" {
                if let Some(r) = rules_at(d, list) {
                    if verb == "remove" && i < r.len() {
                        r.remove(i);
                    } else if verb != "remove" {
                        shift(r, i, up);
                    }
                }
            } else if let Some(f) = fields_at(d, list) {
                if verb == "remove" && i < f.len() {
                    f.remove(i);
                } else if verb != "remove" {
                    shift(f, i, up);
                }
            }
        }
        _ => {}
    }
}

async fn edit_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    admin: Admin,
    ctx: PageCtx,
    path: web::Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let (type_id, version) = path.into_inner();
    load_draft(&state, &type_id, &version).await?;
    let mut map: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in pairs {
        map.entry(k).or_default().push(v);
    }
    let inputs = Inputs(map);
    let op = inputs.get("op");
    let from_json = inputs.get("editor_mode") == "json";

    // Read the document from whichever editor was showing.
    let (mut definition, raw_json, mut problems) = if from_json {
        let raw = inputs.get("raw_json");
        match serde_json::from_str::<Value>(&raw) {
            Err(e) => {
                let stay = Definition {
                    agent_type_id: type_id.clone(),
                    version: version.clone(),
                    ..empty_definition()
                };
                (
                    stay,
                    Some(raw),
                    vec![Violation::new(
                        "raw_json",
                        format!("This is not valid JSON: {e}."),
                    )],
                )
            }
            Ok(value) => match Definition::from_json(&value) {
                Ok(d) => (d, Some(raw), vec![]),
                Err(v) => (
                    Definition {
                        agent_type_id: type_id.clone(),
                        version: version.clone(),
                        ..empty_definition()
                    },
                    Some(raw),
                    v,
                ),
            },
        }
    } else {
        let (d, p) = parse_structured(&inputs, &type_id, &version);
        (d, None, p)
    };
    let readable = problems.is_empty();

    match op.as_str() {
        "check" => {
            if readable {
                problems.extend(meta_validate(&definition));
            }
            let doc = doc_of(&definition);
            // The JSON editor has no per-input slots: its problems go to the summary alone.
            let names = if from_json { vec![] } else { input_names(&doc) };
            let mut slots: Vec<(String, String)> = names
                .into_iter()
                .map(|name| {
                    let message = problems
                        .iter()
                        .find(|v| input_for(&v.path) == name || v.path == name)
                        .map(|v| v.message.clone())
                        .unwrap_or_default();
                    (dom_id(&name), message)
                })
                .collect();
            slots.dedup();
            return render(
                StatusCode::OK,
                &ErrorsOob {
                    slots,
                    summary: Some(("editor-problems".into(), problems)),
                },
            );
        }
        "save" => {
            if !readable {
                let mode = if from_json { "json" } else { "structured" };
                return render(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &page(
                        Some(&inputs),
                        ctx,
                        (&type_id, &version),
                        mode,
                        &definition,
                        raw_json,
                        problems,
                    ),
                );
            }
            let audit = audit_context(&req, &state, Some(&admin.user));
            let doc = serde_json::to_value(&definition).map_err(anyhow::Error::from)?;
            return match catalog::update_draft(&state.db, &audit, &type_id, &version, &doc).await {
                Ok(v) => {
                    flash(&session, "success", format!("Draft {} saved.", v.row.id));
                    Ok(see_other(&format!(
                        "/admin/agent-types/{type_id}/versions/{version}"
                    )))
                }
                Err(AppError::Invalid { violations, .. }) => {
                    let mode = if from_json { "json" } else { "structured" };
                    render(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        &page(
                            Some(&inputs),
                            ctx,
                            (&type_id, &version),
                            mode,
                            &definition,
                            raw_json,
                            violations,
                        ),
                    )
                }
                Err(e) => Err(e),
            };
        }
        "mode:json" => {
            if !readable {
                return render(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &page(
                        Some(&inputs),
                        ctx,
                        (&type_id, &version),
                        "structured",
                        &definition,
                        None,
                        problems,
                    ),
                );
            }
            return render(
                StatusCode::OK,
                &page(
                    Some(&inputs),
                    ctx,
                    (&type_id, &version),
                    "json",
                    &definition,
                    None,
                    vec![],
                ),
            );
        }
        "mode:structured" => {
            if !readable {
                // The JSON cannot be shown as a structure yet: stay, and say why.
                return render(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &page(
                        Some(&inputs),
                        ctx,
                        (&type_id, &version),
                        "json",
                        &definition,
                        raw_json,
                        problems,
                    ),
                );
            }
            return render(
                StatusCode::OK,
                &page(
                    Some(&inputs),
                    ctx,
                    (&type_id, &version),
                    "structured",
                    &definition,
                    None,
                    vec![],
                ),
            );
        }
        _ => {}
    }
    // Structural edits keep the work as typed.
    apply_op(&mut definition, &op);
    let mode = if from_json { "json" } else { "structured" };
    render(
        StatusCode::OK,
        &page(
            Some(&inputs),
            ctx,
            (&type_id, &version),
            mode,
            &definition,
            if from_json { raw_json } else { None },
            problems,
        ),
    )
}

fn empty_definition() -> Definition {
    Definition {
        agent_type_id: String::new(),
        version: String::new(),
        display_name: None,
        description: None,
        config_schema: Schema::default(),
        goal_templates: vec![],
        enforcement_defaults: EnforcementDefaults::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_paths_map_to_editor_inputs() {
        assert_eq!(
            input_for("config_schema.fields[3].default"),
            "cf[3].default"
        );
        assert_eq!(
            input_for("config_schema.fields[2].options[1]"),
            "cf[2].options"
        );
        assert_eq!(
            input_for("config_schema.fields[9].fields[0].key"),
            "cf[9].fields"
        );
        assert_eq!(input_for("config_schema.rules[0].of"), "cr[0].other");
        assert_eq!(
            input_for("goal_templates[1].settings_schema.fields[0].label"),
            "gt[1].sf[0].label"
        );
        assert_eq!(
            input_for("goal_templates[1].settings_schema.rules[2].keys_from"),
            "gt[1].sr[2].other"
        );
        assert_eq!(
            input_for("goal_templates[0].allowed_frequencies[1]"),
            "gt[0].allowed_frequencies"
        );
        assert_eq!(
            input_for("enforcement_defaults.deterministic"),
            "deterministic"
        );
        assert_eq!(input_for("display_name"), "display_name");
    }

    #[test]
    fn defaults_are_read_by_type() {
        assert_eq!(
            parse_default("3", Some(FieldType::Integer), None),
            Some(json!(3))
        );
        assert_eq!(
            parse_default("soon", Some(FieldType::Integer), None),
            Some(json!("soon"))
        );
        assert_eq!(
            parse_default("a, b", Some(FieldType::List), Some(FieldType::Text)),
            Some(json!(["a", "b"]))
        );
        assert_eq!(
            parse_default("[1, 2]", Some(FieldType::List), Some(FieldType::Number)),
            Some(json!([1, 2]))
        );
        assert_eq!(
            parse_default("yes", Some(FieldType::Boolean), None),
            Some(json!(true))
        );
        assert_eq!(parse_default("", Some(FieldType::Text), None), None);
    }

    /// Rendering a definition into the editor and reading the inputs back gives the same definition.
    #[test]
    fn structured_editor_round_trips_the_builtins() {
        for d in crate::domain::builtin::definitions() {
            let doc = doc_of(&d);
            let mut map: HashMap<String, Vec<String>> = HashMap::new();
            let mut put = |k: String, v: String| map.entry(k).or_default().push(v);
            put("display_name".into(), doc.display_name.clone());
            put("description".into(), doc.description.clone());
            if doc.approval_required {
                put("approval_required".into(), "true".into());
            }
            if doc.deterministic {
                put("deterministic".into(), "true".into());
            }
            let put_fields = |rows: &[FieldRow], put: &mut dyn FnMut(String, String)| {
                for r in rows {
                    put(r.name("__row"), "1".into());
                    for (p, v) in [
                        ("key", &r.key),
                        ("label", &r.label),
                        ("type", &r.field_type),
                        ("description", &r.description),
                        ("options", &r.options),
                        ("item_type", &r.item_type),
                        ("default", &r.default),
                        ("min", &r.min),
                        ("max", &r.max),
                        ("min_length", &r.min_length),
                        ("max_length", &r.max_length),
                        ("pattern", &r.pattern),
                        ("min_items", &r.min_items),
                        ("max_items", &r.max_items),
                        ("fields", &r.sub_fields),
                    ] {
                        put(r.name(p), v.clone());
                    }
                    for (p, on) in [
                        ("required", r.required),
                        ("exclusive_min", r.exclusive_min),
                        ("secret_ref", r.secret_ref),
                    ] {
                        if on {
                            put(r.name(p), "true".into());
                        }
                    }
                }
            };
            put_fields(&doc.fields, &mut put);
            for r in &doc.rules {
                put(r.name("__row"), "1".into());
                put(r.name("kind"), r.kind.clone());
                put(r.name("field"), r.field.clone());
                put(r.name("other"), r.other.clone());
            }
            for t in &doc.templates {
                put(t.name_of("__row"), "1".into());
                for (p, v) in [
                    ("goal_template_id", &t.goal_template_id),
                    ("name", &t.name),
                    ("description", &t.description),
                    ("default_frequency", &t.default_frequency),
                    ("skill_binding", &t.skill_binding),
                ] {
                    put(t.name_of(p), v.clone());
                }
                put_fields(&t.fields, &mut put);
            }
            let (back, problems) = parse_structured(&Inputs(map), &d.agent_type_id, &d.version);
            assert!(problems.is_empty(), "{problems:?}");
            assert_eq!(back, d);
        }
    }
}
