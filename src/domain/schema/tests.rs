//! Validation examples and every constraint's message.

use super::*;
use crate::domain::definition::{Field, FieldType, Rule, Schema};
use serde_json::{Value, json};

mod examples {
    use super::*;

    fn schema() -> Schema {
        let mut coin = Field::new("default_coin", "Default coin", FieldType::Text);
        coin.required = true;
        let mut coins = Field::new("allowed_coins", "Allowed coins", FieldType::List);
        coins.item_type = Some(FieldType::Text);
        let mut units = Field::new(
            "max_units_per_order",
            "Max units per order",
            FieldType::Integer,
        );
        units.required = true;
        units.min = Some(1.0);
        let mut risk = Field::new("risk_limits", "Risk limits", FieldType::Object);
        risk.required = true;
        risk.fields = Some(vec![units]);
        let mut secret = Field::new(
            "exchange_credential_ref",
            "Exchange credential ref",
            FieldType::Text,
        );
        secret.secret_ref = true;
        Schema {
            fields: vec![coin, coins, risk, secret],
            rules: vec![Rule::MemberOf {
                field: "default_coin".into(),
                of: "allowed_coins".into(),
            }],
        }
    }

    #[test]
    fn errors_name_the_field_in_words() {
        let s = schema();
        let v = json!({"default_coin": "DOGE", "allowed_coins": ["BTC"], "risk_limits": {"max_units_per_order": 0}, "exchange_credential_ref": "sk_live_123"});
        let e = validate(&s, &v, Mode::Complete);
        let by_path = |p: &str| {
            e.iter()
                .find(|v| v.path == p)
                .map(|v| v.message.clone())
                .unwrap_or_default()
        };
        assert_eq!(
            by_path("default_coin"),
            "Default coin must be one of the allowed coins."
        );
        assert_eq!(
            by_path("risk_limits.max_units_per_order"),
            "Max units per order must be at least 1."
        );
        assert!(by_path("exchange_credential_ref").contains("raw secrets are never kept"));
    }

    #[test]
    fn draft_mode_allows_missing_but_not_wrong() {
        let s = schema();
        assert!(validate(&s, &json!({}), Mode::Draft).is_empty());
        let complete = validate(&s, &json!({}), Mode::Complete);
        assert!(
            complete
                .iter()
                .any(|v| v.path == "default_coin" && v.message == "Default coin is required.")
        );
        let missing = missing_required(&s, &json!({"risk_limits": {}}));
        assert_eq!(
            missing.iter().map(|v| v.path.as_str()).collect::<Vec<_>>(),
            ["default_coin", "risk_limits.max_units_per_order"]
        );
        let wrong = validate(
            &s,
            &json!({"risk_limits": {"max_units_per_order": "lots"}}),
            Mode::Draft,
        );
        assert_eq!(
            wrong[0].message,
            "Max units per order must be a whole number."
        );
        assert!(
            validate(&s, &json!({"surprise": 1}), Mode::Draft)[0]
                .message
                .contains("not a field of this form")
        );
    }

    #[test]
    fn raw_secrets_are_refused_anywhere() {
        let mut out = vec![];
        scan_raw_secrets(
            &json!({"constraints": {"x": [{"api_key": "abc"}], "okay": "fine"}, "github_token": "ghp_x", "ref": {"client_secret": "CRED-1"}}),
            "",
            &mut out,
        );
        let paths: Vec<&str> = out.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, ["constraints.x[0].api_key", "github_token"]);
    }
}

mod constraint_messages {
    use super::*;

    fn one(f: Field, value: Value) -> Vec<String> {
        let s = Schema {
            fields: vec![f],
            rules: vec![],
        };
        validate(&s, &json!({ "x": value }), Mode::Complete)
            .into_iter()
            .map(|v| format!("{}: {}", v.path, v.message))
            .collect()
    }

    #[test]
    fn every_constraint_has_its_own_sentence() {
        let mut t = Field::new("x", "Name", FieldType::Text);
        t.min_length = Some(3);
        t.max_length = Some(5);
        t.pattern = Some("^[a-z]+$".into());
        assert_eq!(
            one(t.clone(), json!("ab")),
            ["x: Name must be at least 3 characters long."]
        );
        assert_eq!(
            one(t.clone(), json!("abcdefg")),
            ["x: Name must be at most 5 characters long."]
        );
        assert_eq!(
            one(t.clone(), json!("AB1")),
            ["x: Name is not in the expected format."]
        );
        assert_eq!(one(t, json!(7)), ["x: Name must be text."]);

        let mut n = Field::new("x", "Units", FieldType::Number);
        n.min = Some(0.0);
        n.exclusive_min = true;
        n.max = Some(10.0);
        assert_eq!(
            one(n.clone(), json!(0)),
            ["x: Units must be greater than 0."]
        );
        assert_eq!(one(n.clone(), json!(11)), ["x: Units must be at most 10."]);
        assert_eq!(one(n, json!("7")), ["x: Units must be a number."]);
        let mut i = Field::new("x", "Interval", FieldType::Integer);
        i.min = Some(1.0);
        assert_eq!(
            one(i.clone(), json!(0)),
            ["x: Interval must be at least 1."]
        );
        assert_eq!(one(i, json!(1.5)), ["x: Interval must be a whole number."]);

        let mut e = Field::new("x", "Theme", FieldType::Enum);
        e.options = Some(vec!["dark".into(), "light".into()]);
        assert_eq!(
            one(e, json!("pink")),
            ["x: Theme must be one of: dark, light."]
        );
        assert_eq!(
            one(Field::new("x", "Active", FieldType::Boolean), json!("yes")),
            ["x: Active must be yes or no."]
        );

        let mut l = Field::new("x", "Platforms", FieldType::List);
        l.item_type = Some(FieldType::Enum);
        l.options = Some(vec!["x".into(), "youtube".into()]);
        l.min_items = Some(1);
        l.max_items = Some(1);
        assert_eq!(
            one(l.clone(), json!([])),
            ["x: Platforms needs at least 1 entry."]
        );
        assert_eq!(
            one(l.clone(), json!(["x", "youtube"])),
            ["x: Platforms allows at most 1 entry."]
        );
        assert_eq!(
            one(l.clone(), json!(["tiktok"])),
            ["x[0]: Platforms (entry 1) must be one of: x, youtube."]
        );
        l.max_items = None;
        assert_eq!(
            one(l, json!(["x", "x"])),
            ["x: Platforms lists the same value twice."]
        );

        let mut sub = Field::new("limit", "Limit", FieldType::Integer);
        sub.required = true;
        let mut o = Field::new("x", "Limits", FieldType::Object);
        o.fields = Some(vec![sub]);
        assert_eq!(one(o.clone(), json!({})), ["x.limit: Limit is required."]);
        assert_eq!(
            one(o, json!({"limit": 1, "other": 2})),
            ["x.other: other is not a field of this form."]
        );
        assert_eq!(
            one(Field::new("x", "Refs", FieldType::Object), json!({"yt": 5})),
            ["x.yt: Refs (yt) must be text."]
        );
    }

    #[test]
    fn rules_name_the_fields_in_words() {
        let mut platforms = Field::new("platforms_enabled", "Platforms enabled", FieldType::List);
        platforms.item_type = Some(FieldType::Text);
        let creds = Field::new(
            "platform_credentials",
            "Per-platform credential refs",
            FieldType::Object,
        );
        let s = Schema {
            fields: vec![platforms, creds],
            rules: vec![Rule::Covers {
                field: "platform_credentials".into(),
                keys_from: "platforms_enabled".into(),
            }],
        };
        let e = validate(
            &s,
            &json!({"platforms_enabled": ["youtube", "x"], "platform_credentials": {"x": "CRED-1", "youtube": ""}}),
            Mode::Complete,
        );
        assert_eq!(e[0].path, "platform_credentials");
        assert_eq!(
            e[0].message,
            "Per-platform credential refs needs an entry for each of the platforms enabled (missing: youtube)."
        );
        // Draft mode: an object not filled in yet is not an error.
        assert!(validate(&s, &json!({"platforms_enabled": ["youtube"]}), Mode::Draft).is_empty());
        assert!(
            !validate(
                &s,
                &json!({"platforms_enabled": ["youtube"]}),
                Mode::Complete
            )
            .is_empty()
        );
    }
}
