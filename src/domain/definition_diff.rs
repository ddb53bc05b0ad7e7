//! What changed between two versions of a definition: fields and goal templates added, removed and
//! changed, property by property.

use serde_json::{Map, Value};

use super::definition::{Definition, Field};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One changed property: (property, before, after).
pub type PropertyChange = (String, String, String);

#[derive(Debug, Clone)]
pub struct DiffEntry {
    /// "Configuration field", "Goal template", "Settings field of …", "Definition", "Rules", "Enforcement".
    pub area: String,
    pub key: String,
    pub kind: ChangeKind,
    pub properties: Vec<PropertyChange>,
}

impl DiffEntry {
    pub fn kind_label(&self) -> &'static str {
        match self.kind {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        }
    }
}

fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "—".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn props(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// Property changes between two JSON objects, skipping the keys named in `skip`.
fn property_changes(a: &Value, b: &Value, skip: &[&str]) -> Vec<PropertyChange> {
    let (a, b) = (props(a), props(b));
    let mut keys: Vec<&String> = a
        .keys()
        .chain(b.keys().filter(|k| !a.contains_key(*k)))
        .collect();
    keys.dedup();
    keys.into_iter()
        .filter(|k| !skip.contains(&k.as_str()))
        .filter(|k| a.get(*k).filter(|v| !v.is_null()) != b.get(*k).filter(|v| !v.is_null()))
        .map(|k| (k.clone(), show(a.get(k)), show(b.get(k))))
        .collect()
}

fn diff_fields(area: &str, prefix: &str, a: &[Field], b: &[Field], out: &mut Vec<DiffEntry>) {
    let key = |f: &Field| super::paths::join(prefix, &f.key);
    for fb in b {
        match a.iter().find(|fa| fa.key == fb.key) {
            None => {
                let properties = property_changes(
                    &Value::Null,
                    &serde_json::to_value(fb).unwrap_or_default(),
                    &["key", "fields"],
                );
                out.push(DiffEntry {
                    area: area.into(),
                    key: key(fb),
                    kind: ChangeKind::Added,
                    properties,
                })
            }
            Some(fa) => {
                let (va, vb) = (
                    serde_json::to_value(fa).unwrap_or_default(),
                    serde_json::to_value(fb).unwrap_or_default(),
                );
                let properties = property_changes(&va, &vb, &["fields"]);
                if !properties.is_empty() {
                    out.push(DiffEntry {
                        area: area.into(),
                        key: key(fb),
                        kind: ChangeKind::Changed,
                        properties,
                    });
                }
                diff_fields(
                    area,
                    &key(fb),
                    fa.fields.as_deref().unwrap_or(&[]),
                    fb.fields.as_deref().unwrap_or(&[]),
                    out,
                );
            }
        }
    }
    for fa in a {
        if !b.iter().any(|fb| fb.key == fa.key) {
            out.push(DiffEntry {
                area: area.into(),
                key: key(fa),
                kind: ChangeKind::Removed,
                properties: vec![],
            });
        }
    }
    // Same keys, new order.
    let order_a: Vec<&str> = a
        .iter()
        .filter(|f| b.iter().any(|g| g.key == f.key))
        .map(|f| f.key.as_str())
        .collect();
    let order_b: Vec<&str> = b
        .iter()
        .filter(|f| a.iter().any(|g| g.key == f.key))
        .map(|f| f.key.as_str())
        .collect();
    if order_a != order_b {
        out.push(DiffEntry {
            area: area.into(),
            key: if prefix.is_empty() {
                "(order)".into()
            } else {
                format!("{prefix} (order)")
            },
            kind: ChangeKind::Changed,
            properties: vec![("order".into(), order_a.join(", "), order_b.join(", "))],
        });
    }
}

/// Everything that differs from `a` to `b`.
pub fn diff(a: &Definition, b: &Definition) -> Vec<DiffEntry> {
    let mut out = vec![];
    let (va, vb) = (
        serde_json::to_value(a).unwrap_or_default(),
        serde_json::to_value(b).unwrap_or_default(),
    );
    let top = property_changes(
        &va,
        &vb,
        &[
            "version",
            "config_schema",
            "goal_templates",
            "enforcement_defaults",
        ],
    );
    if !top.is_empty() {
        out.push(DiffEntry {
            area: "Definition".into(),
            key: b.agent_type_id.clone(),
            kind: ChangeKind::Changed,
            properties: top,
        });
    }
    let enforcement = property_changes(
        &va["enforcement_defaults"],
        &vb["enforcement_defaults"],
        &[],
    );
    if !enforcement.is_empty() {
        out.push(DiffEntry {
            area: "Enforcement".into(),
            key: "enforcement_defaults".into(),
            kind: ChangeKind::Changed,
            properties: enforcement,
        });
    }
    diff_fields(
        "Configuration field",
        "",
        &a.config_schema.fields,
        &b.config_schema.fields,
        &mut out,
    );
    if a.config_schema.rules != b.config_schema.rules {
        out.push(DiffEntry {
            area: "Configuration rules".into(),
            key: "rules".into(),
            kind: ChangeKind::Changed,
            properties: vec![(
                "rules".into(),
                show(Some(&va["config_schema"]["rules"])),
                show(Some(&vb["config_schema"]["rules"])),
            )],
        });
    }
    for tb in &b.goal_templates {
        match a.template(&tb.goal_template_id) {
            None => out.push(DiffEntry {
                area: "Goal template".into(),
                key: tb.goal_template_id.clone(),
                kind: ChangeKind::Added,
                properties: vec![],
            }),
            Some(ta) => {
                let (ja, jb) = (
                    serde_json::to_value(ta).unwrap_or_default(),
                    serde_json::to_value(tb).unwrap_or_default(),
                );
                let properties = property_changes(&ja, &jb, &["settings_schema"]);
                if !properties.is_empty() {
                    out.push(DiffEntry {
                        area: "Goal template".into(),
                        key: tb.goal_template_id.clone(),
                        kind: ChangeKind::Changed,
                        properties,
                    });
                }
                let area = format!("Settings field of {}", tb.goal_template_id);
                diff_fields(
                    &area,
                    "",
                    &ta.settings_schema.fields,
                    &tb.settings_schema.fields,
                    &mut out,
                );
                if ta.settings_schema.rules != tb.settings_schema.rules {
                    out.push(DiffEntry {
                        area: format!("Settings rules of {}", tb.goal_template_id),
                        key: "rules".into(),
                        kind: ChangeKind::Changed,
                        properties: vec![(
                            "rules".into(),
                            show(Some(&ja["settings_schema"]["rules"])),
                            show(Some(&jb["settings_schema"]["rules"])),
                        )],
                    });
                }
            }
        }
    }
    for ta in &a.goal_templates {
        if b.template(&ta.goal_template_id).is_none() {
            out.push(DiffEntry {
                area: "Goal template".into(),
                key: ta.goal_template_id.clone(),
                kind: ChangeKind::Removed,
                properties: vec![],
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::builtin;
    use crate::domain::definition::FieldType;

    #[test]
    fn added_removed_and_changed_property_by_property() {
        let a = builtin::definitions().remove(0);
        let mut b = a.clone();
        b.version = "1.1.0".into();
        b.config_schema.fields.push(Field::new(
            "follow_up_days",
            "Follow-up days",
            FieldType::Integer,
        ));
        b.config_schema
            .fields
            .retain(|f| f.key != "posting_identity");
        b.config_schema.fields[0].label = "Name of your agent".into();
        b.goal_templates[0].default_frequency = "monthly".into();
        b.goal_templates.pop();
        let d = diff(&a, &b);
        let find = |key: &str| {
            d.iter()
                .find(|e| e.key == key)
                .unwrap_or_else(|| panic!("{key}: {d:?}"))
        };
        assert_eq!(find("follow_up_days").kind, ChangeKind::Added);
        assert_eq!(find("posting_identity").kind, ChangeKind::Removed);
        assert_eq!(
            find("nickname").properties,
            vec![(
                "label".to_string(),
                "Agent nickname".to_string(),
                "Name of your agent".to_string()
            )]
        );
        assert_eq!(
            find("marketing.weekly_multichannel_batch.v1").properties[0].0,
            "default_frequency"
        );
        assert_eq!(
            find("marketing.monthly_campaign_pack.v1").kind,
            ChangeKind::Removed
        );
        assert!(diff(&a, &a).is_empty());
    }
}
