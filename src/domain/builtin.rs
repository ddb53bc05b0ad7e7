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

    /// The built-ins differ from Phase 1 only by the tightenings and added keys.
    #[test]
    fn builtins_keep_phase1_keys_labels_types_and_options() {
        for (builtin, src) in definitions().iter().zip([
            include_str!("../../tests/fixtures/phase1-marketing.healthcare.v1.json"),
            include_str!("../../tests/fixtures/phase1-trading.delta_futures.v1.json"),
        ]) {
            let phase1 = Definition::from_json(&serde_json::from_str(src).unwrap()).unwrap();
            let keys = |d: &Definition| {
                d.config_schema
                    .fields
                    .iter()
                    .map(|f| (f.key.clone(), f.label.clone(), f.options.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(keys(builtin), keys(&phase1));
            let templates = |d: &Definition| {
                d.goal_templates
                    .iter()
                    .map(|t| {
                        (
                            t.goal_template_id.clone(),
                            t.name.clone(),
                            t.default_frequency.clone(),
                            t.skill_binding.clone(),
                        )
                    })
                    .collect::<Vec<_>>()
            };
            assert_eq!(templates(builtin), templates(&phase1));
        }
    }
}
