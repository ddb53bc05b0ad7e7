//! A hired agent's rules (SPEC §5): its trial's lifecycle, the theme, what `configured` means, what
//! still blocks the trial, the wizard's first unfinished step, and the credential references a
//! configuration holds.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::definition::{Field, FieldType, Rule, Schema};
use super::paths::join;
use super::schema::{self, Mode};
use crate::error::Violation;

/// How long a trial runs.
pub const TRIAL_DAYS: i64 = 7;
pub const THEMES: [&str; 3] = ["default", "dark", "light"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrialStatus {
    NotStarted,
    Active,
    EndedConverted,
    EndedNotConverted,
}

impl TrialStatus {
    pub const ALL: [TrialStatus; 4] = [
        TrialStatus::NotStarted,
        TrialStatus::Active,
        TrialStatus::EndedConverted,
        TrialStatus::EndedNotConverted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TrialStatus::NotStarted => "not_started",
            TrialStatus::Active => "active",
            TrialStatus::EndedConverted => "ended_converted",
            TrialStatus::EndedNotConverted => "ended_not_converted",
        }
    }

    pub fn parse(s: &str) -> Option<TrialStatus> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            TrialStatus::NotStarted => "Trial not started",
            TrialStatus::Active => "Trial running",
            TrialStatus::EndedConverted => "Trial ended · converted",
            TrialStatus::EndedNotConverted => "Trial ended · not converted",
        }
    }

    /// A trial starts once: only from `not_started` (Phase 1 restarted ended trials; we do not).
    pub fn can_start(self) -> bool {
        self == TrialStatus::NotStarted
    }

    /// Where a running trial goes when its time is up.
    pub fn at_end(subscription_active: bool) -> TrialStatus {
        if subscription_active {
            TrialStatus::EndedConverted
        } else {
            TrialStatus::EndedNotConverted
        }
    }
}

/// A theme as Phase 1 read it: trimmed, lower-cased, one of [`THEMES`]; blank means "not given".
pub fn parse_theme(raw: Option<&str>) -> Result<Option<String>, Violation> {
    match raw.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => {
            let t = t.to_lowercase();
            if THEMES.contains(&t.as_str()) {
                Ok(Some(t))
            } else {
                Err(Violation::new(
                    "theme",
                    "Theme must be one of default, dark or light.",
                ))
            }
        }
    }
}

/// The fields that are the hired agent's own columns rather than keys of `config`.
pub const OWN_FIELDS: [&str; 2] = ["nickname", "theme"];

/// What validation sees: the config with the agent's nickname and theme in it.
pub fn full_config(config: &Value, nickname: Option<&str>, theme: Option<&str>) -> Value {
    let mut m = config.as_object().cloned().unwrap_or_default();
    for (k, v) in [("nickname", nickname), ("theme", theme)] {
        m.remove(k);
        if let Some(v) = v.filter(|v| !v.trim().is_empty()) {
            m.insert(k.into(), json!(v));
        }
    }
    Value::Object(m)
}

/// `configured`: nickname and theme present and the whole config valid in complete mode.
pub fn is_configured(
    schema: &Schema,
    config: &Value,
    nickname: Option<&str>,
    theme: Option<&str>,
) -> bool {
    let present = |v: Option<&str>| v.is_some_and(|v| !v.trim().is_empty());
    present(nickname)
        && present(theme)
        && schema::validate(
            schema,
            &full_config(config, nickname, theme),
            Mode::Complete,
        )
        .is_empty()
}

/// The schema without the agent's own fields (the wizard's configuration step).
pub fn config_only(schema: &Schema) -> Schema {
    Schema {
        fields: schema
            .fields
            .iter()
            .filter(|f| !OWN_FIELDS.contains(&f.key.as_str()))
            .cloned()
            .collect(),
        rules: schema.rules.clone(),
    }
}

/// A free object whose values are credential references, one per key (e.g. the marketing type's
/// `platform_credentials`): a free object (no sub-fields) whose key ends in `_credentials`.
pub fn is_credential_map(f: &Field) -> bool {
    f.field_type == FieldType::Object && f.sub_fields().is_none() && f.key.ends_with("_credentials")
}

/// The keys a credential map should have: the options of the list a `covers` rule names for it.
pub fn credential_map_keys(schema: &Schema, f: &Field) -> Vec<String> {
    schema
        .rules
        .iter()
        .find_map(|r| match r {
            Rule::Covers { field, keys_from } if *field == f.key => {
                schema.field(keys_from).and_then(|l| l.options.clone())
            }
            _ => None,
        })
        .unwrap_or_default()
}

/// Phase 1 accepted a credential map's value as a ref string or as `{"credential_ref": ref}`; both
/// are read, and stored as the string.
pub fn normalise_credential_maps(schema: &Schema, config: &mut Value) {
    for f in schema.fields.iter().filter(|f| is_credential_map(f)) {
        if let Some(Value::Object(map)) = config.get_mut(&f.key) {
            for v in map.values_mut() {
                if let Value::Object(o) = v
                    && let Some(Value::String(r)) = o.get("credential_ref")
                {
                    *v = Value::String(r.clone());
                }
            }
        }
    }
}

/// The Phase-1 `platforms` list is not part of a v1 schema: refused with a message naming the keys
/// that replace it.
pub fn legacy_platforms(schema: &Schema, config: &Value) -> Option<Violation> {
    (config.get("platforms").is_some() && schema.field("platforms").is_none()).then(|| {
        Violation::new(
            "platforms",
            "The platforms list is the old (Phase 1) shape: choose platforms in platforms_enabled and give each one's credential reference in platform_credentials.",
        )
    })
}

/// Every credential reference in a config, with its path: `secret_ref` fields (nested too) and the
/// values of credential maps.
pub fn credential_refs(schema: &Schema, config: &Value) -> Vec<(String, String)> {
    let mut out = vec![];
    refs_in(&schema.fields, config, "", &mut out);
    out
}

fn refs_in(fields: &[Field], value: &Value, prefix: &str, out: &mut Vec<(String, String)>) {
    for f in fields {
        let path = join(prefix, &f.key);
        let Some(v) = value.get(&f.key) else { continue };
        if f.secret_ref
            && let Some(s) = v.as_str().filter(|s| !s.is_empty())
        {
            out.push((path.clone(), s.to_string()));
        }
        if is_credential_map(f)
            && let Some(m) = v.as_object()
        {
            for (k, x) in m {
                if let Some(s) = x.as_str().filter(|s| !s.is_empty()) {
                    out.push((join(&path, k), s.to_string()));
                }
            }
        }
        if let Some(sub) = f.sub_fields() {
            refs_in(sub, v, &path, out);
        }
    }
}

/// Values typed into write-only inputs that are secrets rather than references: (path, secret).
/// The form's save stores each as a credential and puts its reference in their place.
pub fn typed_secrets(schema: &Schema, config: &Value) -> Vec<(String, String)> {
    credential_refs(schema, config)
        .into_iter()
        .filter(|(_, v)| !looks_like_ref(v))
        .collect()
}

/// Sets the value at a dotted path, making the objects on the way.
pub fn set_path(config: &mut Value, path: &str, value: Value) {
    let mut cur = config;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let obj = cur.as_object_mut().expect("just made an object");
        if i == parts.len() - 1 {
            obj.insert((*part).to_string(), value);
            return;
        }
        cur = obj
            .entry((*part).to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// The config with every typed secret replaced by what was stored before (for showing a form
/// again: a secret is never sent back) — or removed when nothing was.
pub fn without_typed_secrets(schema: &Schema, config: &Value, previous: &Value) -> Value {
    let mut out = config.clone();
    for (path, _) in typed_secrets(schema, config) {
        let mut prev = Some(previous);
        for part in path.split('.') {
            prev = prev.and_then(|p| p.get(part));
        }
        set_path(&mut out, &path, prev.cloned().unwrap_or(Value::Null));
    }
    out
}

/// True when a typed value is a credential reference rather than a secret to store.
pub fn looks_like_ref(s: &str) -> bool {
    s.len() <= 100
        && s.strip_prefix("CRED-").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// One thing that keeps the trial from starting, with the wizard step that fixes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Missing {
    /// `subscription`, `nickname`, `theme`, `config`, `goals`, `goals_confirmed` or `trial`.
    pub item: &'static str,
    pub message: String,
    /// The wizard step (1–5) where it is fixed.
    pub step: u8,
}

/// What the trial-start check looks at.
pub struct TrialCheck<'a> {
    pub subscription_active: bool,
    pub nickname: Option<&'a str>,
    pub theme: Option<&'a str>,
    /// Complete-mode problems of the config (with nickname and theme).
    pub config_problems: usize,
    pub enabled_goals: usize,
    pub goals_confirmed: bool,
    pub trial: TrialStatus,
}

/// Everything that still blocks the trial; empty when it can start.
pub fn trial_blockers(c: &TrialCheck) -> Vec<Missing> {
    let mut out = vec![];
    let blank = |v: Option<&str>| v.is_none_or(|v| v.trim().is_empty());
    if !c.subscription_active {
        out.push(Missing {
            item: "subscription",
            message: "The subscription is not active.".into(),
            step: 5,
        });
    }
    if blank(c.nickname) {
        out.push(Missing {
            item: "nickname",
            message: "Give the agent a nickname.".into(),
            step: 1,
        });
    }
    if blank(c.theme) {
        out.push(Missing {
            item: "theme",
            message: "Choose a theme.".into(),
            step: 2,
        });
    }
    if c.config_problems > 0 {
        out.push(Missing {
            item: "config",
            message: match c.config_problems {
                1 => "One configuration value still needs attention.".into(),
                n => format!("{n} configuration values still need attention."),
            },
            step: 3,
        });
    }
    if c.enabled_goals == 0 {
        out.push(Missing {
            item: "goals",
            message: "Add at least one enabled goal.".into(),
            step: 4,
        });
    } else if !c.goals_confirmed {
        out.push(Missing {
            item: "goals_confirmed",
            message: "Confirm that goal setting is complete.".into(),
            step: 4,
        });
    }
    if matches!(
        c.trial,
        TrialStatus::EndedConverted | TrialStatus::EndedNotConverted
    ) {
        out.push(Missing {
            item: "trial",
            message: "The trial has ended; a trial runs only once.".into(),
            step: 5,
        });
    }
    out
}

/// The wizard's steps.
pub const WIZARD_STEPS: [&str; 5] = ["Nickname", "Theme", "Configuration", "Goals", "Review"];

/// The first step not yet done: where "resume" opens.
pub fn first_unfinished_step(
    nickname: Option<&str>,
    theme: Option<&str>,
    configured: bool,
    goals_done: bool,
) -> u8 {
    let blank = |v: Option<&str>| v.is_none_or(|v| v.trim().is_empty());
    if blank(nickname) {
        1
    } else if blank(theme) {
        2
    } else if !configured {
        3
    } else if !goals_done {
        4
    } else {
        5
    }
}

/// The config's keys the schema does not know are kept out of the form but reported; this returns
/// the config restricted to known keys plus the stored defaults.
pub fn stored_config(schema: &Schema, config: &Value) -> Value {
    let mut merged = schema::with_defaults(&config_only(schema).fields, config);
    if let Value::Object(m) = &mut merged {
        for k in OWN_FIELDS {
            m.remove(k);
        }
    }
    if merged.is_null() {
        Value::Object(Map::new())
    } else {
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::builtin;

    fn trading() -> Schema {
        builtin::definitions()
            .into_iter()
            .find(|d| d.agent_type_id.starts_with("trading"))
            .unwrap()
            .config_schema
    }

    fn marketing() -> Schema {
        builtin::definitions()
            .into_iter()
            .find(|d| d.agent_type_id.starts_with("marketing"))
            .unwrap()
            .config_schema
    }

    fn trading_config() -> Value {
        json!({"timezone": "Asia/Kolkata", "exchange_provider": "delta_exchange_india",
            "exchange_credential_ref": "CRED-1", "allowed_coins": ["BTC", "ETH"], "default_coin": "BTC",
            "interval_seconds": 60, "risk_limits": {"max_units_per_order": 2}})
    }

    #[test]
    fn configured_needs_nickname_theme_and_a_complete_config() {
        let s = trading();
        let c = trading_config();
        assert!(is_configured(&s, &c, Some("Desk"), Some("dark")));
        assert!(!is_configured(&s, &c, Some("  "), Some("dark")));
        assert!(!is_configured(&s, &c, Some("Desk"), None));
        let mut wrong = c.clone();
        wrong["default_coin"] = json!("DOGE");
        assert!(!is_configured(&s, &wrong, Some("Desk"), Some("dark")));
        let mut short = c;
        short.as_object_mut().unwrap().remove("risk_limits");
        assert!(!is_configured(&s, &short, Some("Desk"), Some("dark")));
    }

    #[test]
    fn themes_are_read_as_phase1_did() {
        assert_eq!(
            parse_theme(Some(" Dark ")).unwrap().as_deref(),
            Some("dark")
        );
        assert_eq!(parse_theme(Some("  ")).unwrap(), None);
        assert!(parse_theme(Some("neon")).is_err());
    }

    #[test]
    fn trials_start_once_and_end_by_the_subscription() {
        assert!(TrialStatus::NotStarted.can_start());
        for t in [
            TrialStatus::Active,
            TrialStatus::EndedConverted,
            TrialStatus::EndedNotConverted,
        ] {
            assert!(!t.can_start(), "{t:?}");
        }
        assert_eq!(TrialStatus::at_end(true), TrialStatus::EndedConverted);
        assert_eq!(TrialStatus::at_end(false), TrialStatus::EndedNotConverted);
        for t in TrialStatus::ALL {
            assert_eq!(TrialStatus::parse(t.as_str()), Some(t));
        }
    }

    #[test]
    fn blockers_name_each_missing_piece_and_its_step() {
        let check = TrialCheck {
            subscription_active: true,
            nickname: Some("Desk"),
            theme: Some("default"),
            config_problems: 0,
            enabled_goals: 1,
            goals_confirmed: true,
            trial: TrialStatus::NotStarted,
        };
        assert!(trial_blockers(&check).is_empty());
        let items =
            |c: &TrialCheck| -> Vec<&str> { trial_blockers(c).iter().map(|m| m.item).collect() };
        assert_eq!(
            items(&TrialCheck {
                nickname: None,
                config_problems: 2,
                enabled_goals: 0,
                ..check
            }),
            ["nickname", "config", "goals"]
        );
        assert_eq!(
            items(&TrialCheck {
                goals_confirmed: false,
                trial: TrialStatus::EndedConverted,
                subscription_active: false,
                ..check
            }),
            ["subscription", "goals_confirmed", "trial"]
        );
    }

    #[test]
    fn resume_opens_the_first_unfinished_step() {
        assert_eq!(first_unfinished_step(None, None, false, false), 1);
        assert_eq!(first_unfinished_step(Some("A"), None, false, false), 2);
        assert_eq!(
            first_unfinished_step(Some("A"), Some("dark"), false, true),
            3
        );
        assert_eq!(
            first_unfinished_step(Some("A"), Some("dark"), true, false),
            4
        );
        assert_eq!(
            first_unfinished_step(Some("A"), Some("dark"), true, true),
            5
        );
    }

    #[test]
    fn credential_maps_accept_both_phase1_shapes_and_refs_are_found() {
        let s = marketing();
        let mut c = json!({"platforms_enabled": ["youtube", "x"],
            "platform_credentials": {"youtube": {"credential_ref": "CRED-a"}, "x": "CRED-b"}});
        normalise_credential_maps(&s, &mut c);
        assert_eq!(c["platform_credentials"]["youtube"], "CRED-a");
        let mut refs = credential_refs(&s, &c);
        refs.sort();
        assert_eq!(
            refs,
            [
                ("platform_credentials.x".to_string(), "CRED-b".to_string()),
                ("platform_credentials.youtube".into(), "CRED-a".into())
            ]
        );
        let pc = s.field("platform_credentials").unwrap();
        assert!(is_credential_map(pc));
        assert!(credential_map_keys(&s, pc).contains(&"youtube".to_string()));
        let t = trading();
        assert_eq!(
            credential_refs(&t, &trading_config()),
            [("exchange_credential_ref".to_string(), "CRED-1".to_string())]
        );
    }

    #[test]
    fn the_legacy_platforms_list_is_named_with_its_replacement() {
        let v = legacy_platforms(&marketing(), &json!({"platforms": []})).unwrap();
        assert!(
            v.message.contains("platforms_enabled") && v.message.contains("platform_credentials")
        );
        assert!(legacy_platforms(&marketing(), &json!({})).is_none());
    }

    #[test]
    fn refs_are_told_from_secrets() {
        assert!(looks_like_ref("CRED-4f2a-9"));
        assert!(!looks_like_ref("CRED-"));
        assert!(!looks_like_ref("sk_live_abc"));
        assert!(!looks_like_ref("CRED-abc def"));
    }

    #[test]
    fn stored_config_merges_defaults_and_drops_own_fields() {
        let s = trading();
        let v = stored_config(&s, &json!({"nickname": "x", "timezone": "UTC"}));
        assert!(v.get("nickname").is_none());
        assert_eq!(v["timezone"], "UTC");
    }
}
