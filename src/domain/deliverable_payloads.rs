//! What an agent produces for a goal, deterministically (no LLM): a title and a payload, chosen by
//! the goal template's `skill_binding` (and, for the trading executor, by the template), in the
//! Phase-1 formats — a marketing batch with one variant per channel (text, hashtags, and the
//! channel's limits), a trading intent with its checks and validation errors, a close-position
//! proposal, a guardrail report, or a generic deliverable.

use serde_json::{Map, Value, json};

/// What a draft is made from.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub goal_template_id: &'a str,
    pub goal_instance_id: &'a str,
    pub skill_binding: Option<&'a str>,
    /// The hired agent's config (nickname and theme are not needed).
    pub config: &'a Value,
    /// The goal's settings.
    pub settings: &'a Value,
}

/// A draft: its title and payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub title: String,
    pub payload: Value,
}

/// The actions that reach the outside world (and so need an approval when the type requires one).
pub const EXTERNAL_ACTIONS: [&str; 5] =
    ["publish", "send", "post", "place_order", "close_position"];

/// Which builder a template's skill binding selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    MarketingBatch,
    TradingIntent,
    ClosePosition,
    GuardrailReport,
    Generic,
}

pub fn kind_of(skill_binding: Option<&str>, goal_template_id: &str) -> Kind {
    match skill_binding.unwrap_or_default() {
        "content_marketing" | "social_media" | "brand_strategy" => Kind::MarketingBatch,
        "trading_executor" => {
            if goal_template_id.contains("trade_intent") {
                Kind::TradingIntent
            } else if goal_template_id.contains("close_position") {
                Kind::ClosePosition
            } else {
                Kind::GuardrailReport
            }
        }
        _ => Kind::Generic,
    }
}

/// Builds the draft for a goal.
pub fn build(i: &Inputs) -> Draft {
    match kind_of(i.skill_binding, i.goal_template_id) {
        Kind::MarketingBatch => marketing_batch(i),
        Kind::TradingIntent => trading_intent(i),
        Kind::ClosePosition => close_position(i),
        Kind::GuardrailReport => guardrail_report(i),
        Kind::Generic => Draft {
            title: "Goal deliverable".into(),
            payload: json!({
                "type": "generic_deliverable_v1",
                "draft_only": true,
                "goal_template_id": i.goal_template_id,
                "goal_instance_id": i.goal_instance_id,
                "intent_action": "publish",
            }),
        },
    }
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or("")
}

fn int_of(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f.trunc() as i64))
            .unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

fn float_of(v: Option<&Value>) -> f64 {
    match v {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// A number as Python's `%g` shows the usual ones: no trailing `.0`.
pub fn short_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn upper_list(v: Option<&Value>) -> Vec<String> {
    let mut out: Vec<String> = v
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|s| s.trim().to_uppercase())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out.dedup();
    out
}

fn max_units(config: &Value) -> i64 {
    int_of(
        config
            .get("risk_limits")
            .and_then(|r| r.get("max_units_per_order")),
    )
}

fn trading_intent(i: &Inputs) -> Draft {
    let coin = text(i.settings, "coin").to_uppercase();
    let side = text(i.settings, "side").to_lowercase();
    let units = float_of(i.settings.get("units"));
    let allowed = upper_list(i.config.get("allowed_coins"));
    let max = max_units(i.config);
    let checks = [
        ("coin_allowed", !coin.is_empty() && allowed.contains(&coin)),
        ("side_valid", side == "buy" || side == "sell"),
        ("units_positive", units > 0.0),
        (
            "within_max_units",
            units > 0.0 && max > 0 && units <= max as f64,
        ),
    ];
    let mut check_map = Map::new();
    for (name, ok) in checks {
        check_map.insert(name.into(), json!(ok));
    }
    check_map.insert("max_units_per_order".into(), json!(max));
    let errors: Vec<&str> = checks
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(n, _)| *n)
        .collect();
    Draft {
        title: format!(
            "Trade intent draft: {} {} {}",
            if coin.is_empty() { "COIN" } else { &coin },
            if side.is_empty() { "side" } else { &side },
            short_number(units)
        ),
        payload: json!({
            "type": "trading_intent_plan_v1",
            "draft_only": true,
            "goal_template_id": i.goal_template_id,
            "goal_instance_id": i.goal_instance_id,
            "exchange_provider": text(i.config, "exchange_provider"),
            "exchange_credential_ref": text(i.config, "exchange_credential_ref"),
            "coin": coin,
            "side": side,
            "units": units,
            "intent_action": "place_order",
            "checks": Value::Object(check_map),
            "validation_errors": errors,
        }),
    }
}

fn close_position(i: &Inputs) -> Draft {
    Draft {
        title: "Close-position proposal".into(),
        payload: json!({
            "type": "trading_close_position_proposal_v1",
            "draft_only": true,
            "goal_template_id": i.goal_template_id,
            "goal_instance_id": i.goal_instance_id,
            "exchange_provider": text(i.config, "exchange_provider"),
            "exchange_credential_ref": text(i.config, "exchange_credential_ref"),
            "window_local_time": text(i.settings, "window_local_time"),
            "intent_action": "close_position",
        }),
    }
}

fn guardrail_report(i: &Inputs) -> Draft {
    Draft {
        title: "Guardrail report".into(),
        payload: json!({
            "type": "trading_guardrail_report_v1",
            "draft_only": true,
            "goal_template_id": i.goal_template_id,
            "goal_instance_id": i.goal_instance_id,
            "snapshot": {
                "exchange_provider": text(i.config, "exchange_provider"),
                "exchange_credential_ref": text(i.config, "exchange_credential_ref"),
                "allowed_coins": upper_list(i.config.get("allowed_coins")),
                "default_coin": text(i.config, "default_coin").to_uppercase(),
                "interval_seconds": int_of(i.config.get("interval_seconds")),
                "risk_limits": {"max_units_per_order": max_units(i.config)},
            },
        }),
    }
}

/// A marketing channel's format and limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Channel {
    pub name: &'static str,
    pub max_hashtags: usize,
    pub max_chars: usize,
}

pub const CHANNELS: [Channel; 5] = [
    Channel {
        name: "facebook",
        max_hashtags: 20,
        max_chars: 63_206,
    },
    Channel {
        name: "instagram",
        max_hashtags: 25,
        max_chars: 2_200,
    },
    Channel {
        name: "linkedin",
        max_hashtags: 15,
        max_chars: 3_000,
    },
    Channel {
        name: "whatsapp",
        max_hashtags: 5,
        max_chars: 1_024,
    },
    Channel {
        name: "youtube",
        max_hashtags: 15,
        max_chars: 5_100,
    },
];

pub const CALL_TO_ACTION: &str = "Tell us what you want next and we\u{2019}ll tailor it.";

/// Cuts `s` to at most `max` characters, ending in "..." when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(3);
    let mut out: String = s.chars().take(keep).collect();
    out.push_str("...");
    out
}

/// `#`-prefixed, without duplicates, sorted regardless of case.
pub fn hashtags(raw: &[String]) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for h in raw {
        let t = h.trim().trim_start_matches('#').trim();
        if t.is_empty() {
            continue;
        }
        let tag = format!("#{t}");
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&tag)) {
            out.push(tag);
        }
    }
    out.sort_by_key(|a| a.to_lowercase());
    out
}

/// The channels a batch is written for: the enabled platforms that have one (`x` and `twitter`
/// have none), or all five when none does.
pub fn channels_for(config: &Value) -> Vec<Channel> {
    let mut names: Vec<String> = config
        .get("platforms_enabled")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|s| s.trim().to_lowercase())
                .collect()
        })
        .unwrap_or_default();
    // The legacy list of Phase 1 counts too.
    if let Some(list) = config.get("platforms").and_then(Value::as_array) {
        names.extend(
            list.iter()
                .filter_map(|p| p.get("platform").and_then(Value::as_str))
                .map(|s| s.trim().to_lowercase()),
        );
    }
    let chosen: Vec<Channel> = CHANNELS
        .iter()
        .copied()
        .filter(|c| names.iter().any(|n| n == c.name))
        .collect();
    if chosen.is_empty() {
        CHANNELS.to_vec()
    } else {
        chosen
    }
}

/// One channel's text of the batch's message.
pub fn channel_text(
    c: Channel,
    theme: &str,
    core: &str,
    key_points: &[String],
    tags: &[String],
) -> String {
    let tags: Vec<&str> = tags
        .iter()
        .take(c.max_hashtags)
        .map(String::as_str)
        .collect();
    let tag_line = tags.join(" ");
    let bullets = key_points
        .iter()
        .map(|k| format!("\u{2022} {k}"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut parts: Vec<String> = vec![];
    let body = match c.name {
        "linkedin" | "facebook" => {
            parts.push(core.to_string());
            if !bullets.is_empty() {
                parts.push(bullets);
            }
            parts.push(CALL_TO_ACTION.into());
            parts.push(tag_line);
            parts.join("\n\n")
        }
        "instagram" => {
            parts.extend([core.to_string(), CALL_TO_ACTION.into(), tag_line]);
            parts.join("\n\n")
        }
        "youtube" => {
            parts.push(format!("Title: {}", truncate(theme, 100)));
            parts.push(core.to_string());
            if !key_points.is_empty() {
                parts.push(format!(
                    "Key points:\n{}",
                    key_points
                        .iter()
                        .map(|k| format!("- {k}"))
                        .collect::<Vec<_>>()
                        .join("\n")
                ));
            }
            parts.extend([CALL_TO_ACTION.into(), tag_line]);
            parts.join("\n\n")
        }
        // WhatsApp: a short message, the hashtags on the next line.
        _ => format!(
            "{}\n\n{}\n{}",
            truncate(core, 240),
            CALL_TO_ACTION,
            tag_line
        ),
    };
    truncate(body.trim_end(), c.max_chars)
}

fn marketing_batch(i: &Inputs) -> Draft {
    let (title, theme_key, theme_default) = if i.goal_template_id.contains("weekly") {
        (
            "Weekly multichannel posting batch",
            "topics",
            "Weekly multichannel batch",
        )
    } else if i.goal_template_id.contains("daily") {
        (
            "Daily micro-post",
            "topic",
            "Daily patient-education micro-post",
        )
    } else {
        ("Monthly campaign pack", "theme", "Monthly campaign pack")
    };
    let theme = match i.settings.get(theme_key) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::trim)
            .find(|s| !s.is_empty())
            .map(str::to_string),
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
    .unwrap_or_else(|| theme_default.to_string());
    let brand = match text(i.config, "brand_name") {
        "" => "Brand",
        b => b,
    };
    let offer = i
        .config
        .get("offerings_services")
        .and_then(Value::as_array)
        .and_then(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::trim)
                .find(|s| !s.is_empty())
        })
        .unwrap_or("");
    let location = text(i.config, "location");
    let mut core = format!("{brand}: {theme}.");
    if !offer.is_empty() {
        core.push_str(&format!(" Offer: {offer}."));
    }
    if !location.is_empty() {
        core.push_str(&format!(" Location: {location}."));
    }
    let key_points: Vec<String> = ["audience", "tone", "primary_language"]
        .iter()
        .map(|k| text(i.config, k))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let tags = hashtags(&[
        "WAOOAW".to_string(),
        brand.replace(' ', ""),
        "SmallBusiness".to_string(),
    ]);
    let variants: Vec<Value> = channels_for(i.config)
        .into_iter()
        .map(|c| {
            json!({
                "platform": c.name,
                "text": channel_text(c, &theme, &core, &key_points, &tags),
                "hashtags": tags.iter().take(c.max_hashtags).collect::<Vec<_>>(),
                "max_chars": c.max_chars,
                "max_hashtags": c.max_hashtags,
            })
        })
        .collect();
    Draft {
        title: title.into(),
        payload: json!({
            "type": "marketing_draft_batch_v1",
            "draft_only": true,
            "goal_template_id": i.goal_template_id,
            "goal_instance_id": i.goal_instance_id,
            "brand_name": brand,
            "theme": theme,
            "variants": variants,
            "suggested_schedule_local": ["09:00", "13:00", "18:00"],
            "intent_action": "publish",
            "debug": {"executor": "deterministic_chunk_c"},
        }),
    }
}

/// The action an execution of `payload` performs (`publish` when it does not say).
pub fn intent_action(payload: &Value) -> String {
    payload
        .get("intent_action")
        .and_then(Value::as_str)
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "publish".into())
}

/// Whether executing `payload` reaches the outside world.
pub fn is_external(payload: &Value) -> bool {
    EXTERNAL_ACTIONS.contains(&intent_action(payload).as_str())
}

/// A trading intent's validation errors (empty for every other payload).
pub fn validation_errors(payload: &Value) -> Vec<String> {
    strings_at(payload, "validation_errors")
}

/// The strings of the list at `key` of `v` (empty when there is none).
pub fn strings_at(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// One hand-over of an execution to an integration: which one, what it does, with what, and the
/// credential it uses (by reference: the secret is opened only by the integration itself).
#[derive(Debug, Clone, PartialEq)]
pub struct Handover {
    pub integration: String,
    pub action: String,
    pub payload: Value,
    pub credential_ref: Option<String>,
}

/// The hand-overs that carry out `payload` (the edited one when there is one): one per channel of
/// a marketing batch, the exchange for a trading intent or close-position proposal, the report
/// archive otherwise.
pub fn handovers(payload: &Value, config: &Value) -> Vec<Handover> {
    let action = intent_action(payload);
    let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
    match payload.get("type").and_then(Value::as_str) {
        Some("marketing_draft_batch_v1") => payload
            .get("variants")
            .and_then(Value::as_array)
            .map(|vs| {
                vs.iter()
                    .filter_map(|v| {
                        let platform = v.get("platform")?.as_str()?;
                        let credential = config
                            .get("platform_credentials")
                            .and_then(|m| m.get(platform))
                            .and_then(|c| c.as_str().or_else(|| c.get("credential_ref")?.as_str()))
                            .and_then(non_empty);
                        Some(Handover {
                            integration: format!("channel:{platform}"),
                            action: action.clone(),
                            payload: json!({
                                "brand_name": payload.get("brand_name"),
                                "platform": platform,
                                "text": v.get("text"),
                                "hashtags": v.get("hashtags"),
                                "suggested_schedule_local": payload.get("suggested_schedule_local"),
                            }),
                            credential_ref: credential,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default(),
        Some("trading_intent_plan_v1" | "trading_close_position_proposal_v1") => vec![Handover {
            integration: format!("exchange:{}", text(payload, "exchange_provider")),
            action,
            payload: payload.clone(),
            credential_ref: non_empty(text(payload, "exchange_credential_ref")),
        }],
        _ => vec![Handover {
            integration: "report:archive".into(),
            action,
            payload: payload.clone(),
            credential_ref: None,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trading_config() -> Value {
        json!({"timezone": "Asia/Kolkata", "exchange_provider": "delta_exchange_india",
            "exchange_credential_ref": "CRED-1", "allowed_coins": ["eth", "BTC", "btc"], "default_coin": "btc",
            "interval_seconds": 60, "risk_limits": {"max_units_per_order": 2, "max_notional_inr": 50000}})
    }

    fn inputs<'a>(
        template: &'a str,
        binding: &'a str,
        config: &'a Value,
        settings: &'a Value,
    ) -> Inputs<'a> {
        Inputs {
            goal_template_id: template,
            goal_instance_id: "GOI-1",
            skill_binding: Some(binding),
            config,
            settings,
        }
    }

    #[test]
    fn a_trade_intent_carries_its_checks_and_what_failed() {
        let config = trading_config();
        let settings = json!({"coin": "btc", "side": "BUY", "units": 1.0});
        let d = build(&inputs(
            "trading.trade_intent_draft.v1",
            "trading_executor",
            &config,
            &settings,
        ));
        assert_eq!(d.title, "Trade intent draft: BTC buy 1");
        assert_eq!(
            d.payload,
            json!({"type": "trading_intent_plan_v1", "draft_only": true,
                "goal_template_id": "trading.trade_intent_draft.v1", "goal_instance_id": "GOI-1",
                "exchange_provider": "delta_exchange_india", "exchange_credential_ref": "CRED-1",
                "coin": "BTC", "side": "buy", "units": 1.0, "intent_action": "place_order",
                "checks": {"coin_allowed": true, "side_valid": true, "units_positive": true,
                    "within_max_units": true, "max_units_per_order": 2},
                "validation_errors": []})
        );
        let settings = json!({"coin": "DOGE", "side": "hold", "units": 3.5});
        let d = build(&inputs(
            "trading.trade_intent_draft.v1",
            "trading_executor",
            &config,
            &settings,
        ));
        assert_eq!(d.title, "Trade intent draft: DOGE hold 3.5");
        assert_eq!(
            d.payload["validation_errors"],
            json!(["coin_allowed", "side_valid", "within_max_units"])
        );
        let empty = json!({});
        let d = build(&inputs(
            "trading.trade_intent_draft.v1",
            "trading_executor",
            &config,
            &empty,
        ));
        assert_eq!(d.title, "Trade intent draft: COIN side 0");
        assert_eq!(
            validation_errors(&d.payload),
            [
                "coin_allowed",
                "side_valid",
                "units_positive",
                "within_max_units"
            ]
        );
    }

    #[test]
    fn close_position_and_guardrail_report_follow_the_reference() {
        let config = trading_config();
        let settings = json!({"window_local_time": "15:15"});
        let d = build(&inputs(
            "trading.close_position_reminder.v1",
            "trading_executor",
            &config,
            &settings,
        ));
        assert_eq!(d.title, "Close-position proposal");
        assert_eq!(d.payload["intent_action"], "close_position");
        assert_eq!(d.payload["window_local_time"], "15:15");
        assert_eq!(d.payload["type"], "trading_close_position_proposal_v1");
        let d = build(&inputs(
            "trading.guardrail_report.v1",
            "trading_executor",
            &config,
            &json!({}),
        ));
        assert_eq!(d.title, "Guardrail report");
        assert_eq!(
            d.payload["snapshot"],
            json!({"exchange_provider": "delta_exchange_india", "exchange_credential_ref": "CRED-1",
                "allowed_coins": ["BTC", "ETH"], "default_coin": "BTC", "interval_seconds": 60,
                "risk_limits": {"max_units_per_order": 2}})
        );
        assert!(d.payload.get("intent_action").is_none());
        assert_eq!(intent_action(&d.payload), "publish");
        assert!(is_external(&d.payload));
    }

    #[test]
    fn a_marketing_batch_writes_each_enabled_channel_in_its_format() {
        let config = json!({"brand_name": "Acme Clinic", "offerings_services": ["", "Dental care"],
            "location": "Pune", "primary_language": "en",
            "platforms_enabled": ["x", "Instagram", "youtube", "whatsapp"]});
        let settings = json!({"topics": ["Monsoon hygiene", "Flu"]});
        let d = build(&inputs(
            "marketing.weekly_multichannel_batch.v1",
            "content_marketing",
            &config,
            &settings,
        ));
        assert_eq!(d.title, "Weekly multichannel posting batch");
        let p = &d.payload;
        assert_eq!(p["type"], "marketing_draft_batch_v1");
        assert_eq!(p["theme"], "Monsoon hygiene");
        assert_eq!(p["brand_name"], "Acme Clinic");
        assert_eq!(
            p["suggested_schedule_local"],
            json!(["09:00", "13:00", "18:00"])
        );
        assert_eq!(p["debug"], json!({"executor": "deterministic_chunk_c"}));
        let platforms: Vec<&str> = p["variants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["platform"].as_str().unwrap())
            .collect();
        assert_eq!(
            platforms,
            ["instagram", "whatsapp", "youtube"],
            "x has no channel; sorted"
        );
        let core = "Acme Clinic: Monsoon hygiene. Offer: Dental care. Location: Pune.";
        let tags = "#AcmeClinic #SmallBusiness #WAOOAW";
        assert_eq!(
            p["variants"][0]["text"],
            format!("{core}\n\n{CALL_TO_ACTION}\n\n{tags}")
        );
        assert_eq!(
            p["variants"][1]["text"],
            format!("{core}\n\n{CALL_TO_ACTION}\n{tags}")
        );
        assert_eq!(
            p["variants"][2]["text"],
            format!(
                "Title: Monsoon hygiene\n\n{core}\n\nKey points:\n- en\n\n{CALL_TO_ACTION}\n\n{tags}"
            )
        );
        assert_eq!(p["variants"][1]["max_chars"], 1024);
        assert_eq!(
            p["variants"][0]["hashtags"],
            json!(["#AcmeClinic", "#SmallBusiness", "#WAOOAW"])
        );
    }

    #[test]
    fn marketing_defaults_titles_and_limits() {
        let d = build(&inputs(
            "marketing.daily_micro_post.v1",
            "social_media",
            &json!({}),
            &json!({}),
        ));
        assert_eq!(d.title, "Daily micro-post");
        assert_eq!(d.payload["theme"], "Daily patient-education micro-post");
        assert_eq!(d.payload["brand_name"], "Brand");
        assert_eq!(
            d.payload["variants"].as_array().unwrap().len(),
            5,
            "no channel enabled: all five"
        );
        let d = build(&inputs(
            "marketing.monthly_campaign_pack.v1",
            "brand_strategy",
            &json!({"brand_name": "B"}),
            &json!({"theme": "Diwali"}),
        ));
        assert_eq!(d.title, "Monthly campaign pack");
        assert_eq!(d.payload["theme"], "Diwali");
        // LinkedIn keeps the key points as bullets; every text fits its channel.
        let long = "x".repeat(4000);
        let config = json!({"brand_name": long, "platforms_enabled": ["linkedin", "whatsapp"], "primary_language": "hi"});
        let d = build(&inputs(
            "marketing.daily_micro_post.v1",
            "social_media",
            &config,
            &json!({}),
        ));
        for v in d.payload["variants"].as_array().unwrap() {
            let t = v["text"].as_str().unwrap();
            assert!(t.chars().count() <= v["max_chars"].as_u64().unwrap() as usize);
            assert!(t.ends_with("..."), "{}", &t[t.len() - 10..]);
        }
        assert_eq!(truncate("abcdef", 5), "ab...");
        assert_eq!(
            hashtags(&["#a".into(), "A".into(), " b ".into(), "".into()]),
            ["#a", "#b"]
        );
    }

    #[test]
    fn executions_hand_over_per_channel_or_to_the_exchange_with_references_only() {
        let config = json!({"brand_name": "Acme", "platforms_enabled": ["instagram", "youtube"],
            "platform_credentials": {"instagram": "CRED-ig", "youtube": {"credential_ref": "CRED-yt"}}});
        let d = build(&inputs(
            "marketing.daily_micro_post.v1",
            "social_media",
            &config,
            &json!({}),
        ));
        let h = handovers(&d.payload, &config);
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].integration, "channel:instagram");
        assert_eq!(h[0].credential_ref.as_deref(), Some("CRED-ig"));
        assert_eq!(h[1].credential_ref.as_deref(), Some("CRED-yt"));
        assert_eq!(h[0].action, "publish");
        let t = build(&inputs(
            "trading.close_position_reminder.v1",
            "trading_executor",
            &trading_config(),
            &json!({"window_local_time": "15:00"}),
        ));
        let h = handovers(&t.payload, &trading_config());
        assert_eq!(h[0].integration, "exchange:delta_exchange_india");
        assert_eq!(h[0].action, "close_position");
        assert_eq!(h[0].credential_ref.as_deref(), Some("CRED-1"));
    }

    #[test]
    fn other_bindings_get_a_generic_deliverable() {
        let d = build(&Inputs {
            goal_template_id: "custom.x",
            goal_instance_id: "GOI-9",
            skill_binding: None,
            config: &json!({}),
            settings: &json!({}),
        });
        assert_eq!(d.title, "Goal deliverable");
        assert_eq!(
            d.payload,
            json!({"type": "generic_deliverable_v1", "draft_only": true, "goal_template_id": "custom.x",
                "goal_instance_id": "GOI-9", "intent_action": "publish"})
        );
        assert!(!is_external(&json!({"intent_action": "report"})));
        assert!(is_external(&json!({"intent_action": "Place_Order"})));
    }
}
