//! The built-in agent types (SPEC §3): the reference's Phase-1 definitions with the listed tightenings.

use super::definition::Definition;

const SOURCES: [(&str, &str); 2] = [
    (
        "marketing.healthcare.v1@1.0.0",
        include_str!("builtin/marketing.healthcare.v1@1.0.0.json"),
    ),
    (
        "trading.delta_futures.v1@1.0.0",
        include_str!("builtin/trading.delta_futures.v1@1.0.0.json"),
    ),
];

/// Both built-in definitions, parsed.
pub fn definitions() -> Vec<Definition> {
    SOURCES
        .iter()
        .map(|(id, src)| {
            let d: Definition = serde_json::from_str(src)
                .unwrap_or_else(|e| panic!("built-in {id} is malformed: {e}"));
            assert_eq!(&d.id(), id);
            d
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::definition::meta_validate;
    use crate::domain::definition::{Field, FieldType};
    use serde_json::Value;

    #[test]
    fn builtins_are_valid_and_shaped_as_the_spec_says() {
        let defs = definitions();
        for d in &defs {
            assert!(
                meta_validate(d).is_empty(),
                "{}: {:?}",
                d.id(),
                meta_validate(d)
            );
            assert!(d.enforcement_defaults.approval_required);
            assert_eq!(d.goal_templates.len(), 3);
        }
        assert_eq!(defs[0].config_schema.fields.len(), 11);
        assert!(!defs[0].enforcement_defaults.deterministic);
        assert_eq!(defs[1].config_schema.fields.len(), 9);
        assert!(defs[1].enforcement_defaults.deterministic);
        let t = &defs[1].config_schema;
        assert!(t.field("exchange_credential_ref").unwrap().secret_ref);
        assert_eq!(
            t.field("theme").unwrap().default,
            Some(serde_json::json!("default"))
        );
        assert_eq!(
            t.field("risk_limits").unwrap().sub_fields().unwrap().len(),
            2
        );
    }

    /// A Phase-1 document (no new keys) reads and writes back with the same keys and values.
    #[test]
    fn phase1_documents_round_trip_unchanged() {
        for src in [
            include_str!("../../tests/fixtures/phase1-marketing.healthcare.v1.json"),
            include_str!("../../tests/fixtures/phase1-trading.delta_futures.v1.json"),
        ] {
            let original: Value = serde_json::from_str(src).unwrap();
            let parsed = Definition::from_json(&original).unwrap();
            assert!(
                meta_validate(&parsed).is_empty(),
                "{:?}",
                meta_validate(&parsed)
            );
            assert_eq!(serde_json::to_value(&parsed).unwrap(), original);
        }
    }

    /// The built-ins differ from Phase 1 only by the tightenings SPEC §3 lists (and new optional keys
    /// such as display names and template descriptions).
    #[test]
    fn builtins_differ_from_phase1_only_by_the_listed_tightenings() {
        let shape = |f: &Field| {
            (
                f.key.clone(),
                f.label.clone(),
                f.field_type,
                f.required,
                f.options.clone(),
                f.item_type,
                f.description.clone(),
            )
        };
        let listed: [(&str, &str); 2] = [
            ("trading.delta_futures.v1", "interval_seconds"),
            ("trading.trade_intent_draft.v1", "units"),
        ];
        for (builtin, src) in definitions().iter().zip([
            include_str!("../../tests/fixtures/phase1-marketing.healthcare.v1.json"),
            include_str!("../../tests/fixtures/phase1-trading.delta_futures.v1.json"),
        ]) {
            let phase1 = Definition::from_json(&serde_json::from_str(src).unwrap()).unwrap();
            let mut pairs: Vec<(String, &Field, &Field)> = builtin
                .config_schema
                .fields
                .iter()
                .zip(&phase1.config_schema.fields)
                .map(|(a, b)| (builtin.agent_type_id.clone(), a, b))
                .collect();
            assert_eq!(
                builtin.config_schema.fields.len(),
                phase1.config_schema.fields.len()
            );
            for (t, p) in builtin.goal_templates.iter().zip(&phase1.goal_templates) {
                assert_eq!(
                    (
                        &t.goal_template_id,
                        &t.name,
                        &t.default_frequency,
                        &t.skill_binding
                    ),
                    (
                        &p.goal_template_id,
                        &p.name,
                        &p.default_frequency,
                        &p.skill_binding
                    )
                );
                assert_eq!(
                    t.settings_schema.fields.len(),
                    p.settings_schema.fields.len()
                );
                pairs.extend(
                    t.settings_schema
                        .fields
                        .iter()
                        .zip(&p.settings_schema.fields)
                        .map(|(a, b)| (t.goal_template_id.clone(), a, b)),
                );
            }
            for (owner, ours, theirs) in pairs {
                let retyped = listed.contains(&(owner.as_str(), ours.key.as_str()))
                    && ours.key == "interval_seconds";
                let (mut a, b) = (shape(ours), shape(theirs));
                if retyped {
                    assert_eq!(
                        ours.field_type,
                        FieldType::Integer,
                        "interval_seconds becomes an integer"
                    );
                    a.2 = b.2;
                }
                assert_eq!(a, b, "{owner}: {}", ours.key);
            }
        }
    }
}
