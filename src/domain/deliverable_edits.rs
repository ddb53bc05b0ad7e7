//! "Approve with edits": the form a reviewer edits a payload through, generated per payload type
//! (one text per marketing channel, limited to the channel's length; a trade intent's side and
//! units; a close-position window), and the edited payload it produces. Edits go through the same
//! form engine and validation as every other form; a trade intent's checks are worked out again
//! for the edited values, so an edit can never hide a failed check.

use serde_json::{Map, Value, json};

use super::definition::{Field, FieldType, Schema};
use super::deliverable_payloads::{self as payloads, Inputs};

fn title_case(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn variants(payload: &Value) -> Vec<&Value> {
    payload
        .get("variants")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// The fields a reviewer may edit in `payload`; `None` when nothing in it is editable.
pub fn edit_schema(payload: &Value) -> Option<Schema> {
    let fields: Vec<Field> = match payload.get("type").and_then(Value::as_str)? {
        "marketing_draft_batch_v1" => variants(payload)
            .iter()
            .filter_map(|v| {
                let platform = v.get("platform")?.as_str()?;
                let mut f = Field::new(
                    platform,
                    &format!("{} text", title_case(platform)),
                    FieldType::Text,
                );
                f.required = true;
                f.max_length = v.get("max_chars").and_then(Value::as_u64);
                Some(f)
            })
            .collect(),
        "trading_intent_plan_v1" => {
            let mut side = Field::new("side", "Side", FieldType::Enum);
            side.required = true;
            side.options = Some(vec!["buy".into(), "sell".into()]);
            let mut units = Field::new("units", "Units", FieldType::Number);
            units.required = true;
            units.min = Some(0.0);
            units.exclusive_min = true;
            vec![side, units]
        }
        "trading_close_position_proposal_v1" => {
            let mut w = Field::new("window_local_time", "Window local time", FieldType::Text);
            w.required = true;
            vec![w]
        }
        _ => return None,
    };
    (!fields.is_empty()).then_some(Schema {
        fields,
        rules: vec![],
    })
}

/// The editable values of `payload`, as the edit form shows them.
pub fn editable_values(payload: &Value) -> Value {
    let mut out = Map::new();
    match payload.get("type").and_then(Value::as_str) {
        Some("marketing_draft_batch_v1") => {
            for v in variants(payload) {
                if let (Some(p), Some(t)) = (
                    v.get("platform").and_then(Value::as_str),
                    v.get("text").and_then(Value::as_str),
                ) {
                    out.insert(p.to_string(), json!(t));
                }
            }
        }
        Some("trading_intent_plan_v1") => {
            for k in ["side", "units"] {
                if let Some(x) = payload.get(k) {
                    out.insert(k.into(), x.clone());
                }
            }
        }
        Some("trading_close_position_proposal_v1") => {
            if let Some(x) = payload.get("window_local_time") {
                out.insert("window_local_time".into(), x.clone());
            }
        }
        _ => {}
    }
    Value::Object(out)
}

/// The payload with the (validated) edits applied. A trade intent is built again from the edited
/// side and units and the agent's config, so its checks and validation errors are current.
pub fn apply(payload: &Value, edits: &Value, config: &Value) -> Value {
    let mut out = payload.clone();
    match payload.get("type").and_then(Value::as_str) {
        Some("marketing_draft_batch_v1") => {
            if let Some(vs) = out.get_mut("variants").and_then(Value::as_array_mut) {
                for v in vs {
                    let platform = v
                        .get("platform")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    if let Some(t) = edits.get(&platform).and_then(Value::as_str) {
                        v["text"] = json!(t);
                    }
                }
            }
        }
        Some("trading_intent_plan_v1") => {
            let settings = json!({
                "coin": payload.get("coin").cloned().unwrap_or(Value::Null),
                "side": edits.get("side").or(payload.get("side")).cloned().unwrap_or(Value::Null),
                "units": edits.get("units").or(payload.get("units")).cloned().unwrap_or(Value::Null),
            });
            let template = payload
                .get("goal_template_id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let goal = payload
                .get("goal_instance_id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let rebuilt = payloads::build(&Inputs {
                goal_template_id: template,
                goal_instance_id: goal,
                skill_binding: Some("trading_executor"),
                config,
                settings: &settings,
            });
            // Same credential and exchange as drafted: only side, units and the checks move.
            for k in ["side", "units", "checks", "validation_errors"] {
                out[k] = rebuilt.payload[k].clone();
            }
        }
        Some("trading_close_position_proposal_v1") => {
            if let Some(w) = edits.get("window_local_time") {
                out["window_local_time"] = w.clone();
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::schema::{self, Mode};

    fn trading_config() -> Value {
        json!({"exchange_provider": "delta_exchange_india", "exchange_credential_ref": "CRED-1",
            "allowed_coins": ["BTC"], "default_coin": "BTC", "interval_seconds": 60,
            "risk_limits": {"max_units_per_order": 2}})
    }

    #[test]
    fn a_marketing_batch_is_edited_per_channel_within_its_limit() {
        let config = json!({"brand_name": "Acme", "platforms_enabled": ["instagram", "whatsapp"]});
        let draft = payloads::build(&Inputs {
            goal_template_id: "marketing.daily_micro_post.v1",
            goal_instance_id: "GOI-1",
            skill_binding: Some("social_media"),
            config: &config,
            settings: &json!({}),
        });
        let s = edit_schema(&draft.payload).unwrap();
        let labels: Vec<&str> = s.fields.iter().map(|f| f.label.as_str()).collect();
        assert_eq!(labels, ["Instagram text", "Whatsapp text"]);
        let values = editable_values(&draft.payload);
        assert!(values["instagram"].as_str().unwrap().starts_with("Acme: "));
        let too_long = json!({"instagram": "x".repeat(2201), "whatsapp": "ok"});
        assert_eq!(schema::validate(&s, &too_long, Mode::Complete).len(), 1);
        let edited = apply(
            &draft.payload,
            &json!({"instagram": "New text #Acme"}),
            &config,
        );
        assert_eq!(edited["variants"][0]["text"], "New text #Acme");
        assert_eq!(
            edited["variants"][1], draft.payload["variants"][1],
            "others unchanged"
        );
    }

    #[test]
    fn an_edited_trade_intent_has_its_checks_worked_out_again() {
        let config = trading_config();
        let draft = payloads::build(&Inputs {
            goal_template_id: "trading.trade_intent_draft.v1",
            goal_instance_id: "GOI-1",
            skill_binding: Some("trading_executor"),
            config: &config,
            settings: &json!({"coin": "BTC", "side": "buy", "units": 1}),
        });
        let s = edit_schema(&draft.payload).unwrap();
        assert!(
            !schema::validate(&s, &json!({"side": "hold", "units": 1}), Mode::Complete).is_empty()
        );
        assert!(
            !schema::validate(&s, &json!({"side": "buy", "units": 0}), Mode::Complete).is_empty()
        );
        let edited = apply(
            &draft.payload,
            &json!({"side": "sell", "units": 5}),
            &config,
        );
        assert_eq!(edited["side"], "sell");
        assert_eq!(edited["validation_errors"], json!(["within_max_units"]));
        assert_eq!(edited["exchange_credential_ref"], "CRED-1");
        assert_eq!(
            editable_values(&edited),
            json!({"side": "sell", "units": 5.0})
        );
    }

    #[test]
    fn reports_are_not_editable() {
        let draft = payloads::build(&Inputs {
            goal_template_id: "trading.guardrail_report.v1",
            goal_instance_id: "GOI-1",
            skill_binding: Some("trading_executor"),
            config: &trading_config(),
            settings: &json!({}),
        });
        assert!(edit_schema(&draft.payload).is_none());
        assert!(edit_schema(&json!({"type": "generic_deliverable_v1"})).is_none());
        let close =
            json!({"type": "trading_close_position_proposal_v1", "window_local_time": "15:00"});
        let edited = apply(&close, &json!({"window_local_time": "15:30"}), &json!({}));
        assert_eq!(edited["window_local_time"], "15:30");
    }
}
