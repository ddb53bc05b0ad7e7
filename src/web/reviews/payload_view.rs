//! A deliverable's payload as people read it: a marketing batch as one preview per channel (text,
//! hashtags, characters against the channel's limit), a trade intent with each check passed or
//! failed and its validation errors, reports as tables. Nothing here shows raw JSON; a payload of
//! an unknown type becomes a table of its fields.

use serde_json::Value;

use crate::domain::deliverable_payloads as payloads;
use crate::web::agents::value_words;

/// One channel's post.
pub struct PostPreview {
    pub platform: String,
    pub label: String,
    pub text: String,
    pub hashtags: Vec<String>,
    pub max_hashtags: Option<u64>,
    pub chars: usize,
    pub max_chars: Option<u64>,
    pub over_limit: bool,
    /// The reviewer changed this text (approve with edits).
    pub edited: bool,
}

impl PostPreview {
    /// "3 hashtags (up to 25)".
    pub fn hashtag_text(&self) -> String {
        let n = self.hashtags.len();
        let word = if n == 1 { "hashtag" } else { "hashtags" };
        match self.max_hashtags {
            Some(m) => format!("{n} {word} (up to {m})"),
            None => format!("{n} {word}"),
        }
    }

    pub fn limit_text(&self) -> String {
        match self.max_chars {
            Some(m) => format!("{} / {} characters", group(self.chars as u64), group(m)),
            None => format!("{} characters", group(self.chars as u64)),
        }
    }
}

/// One check of a trade intent.
pub struct Check {
    pub label: &'static str,
    pub passed: bool,
}

pub enum PayloadView {
    Marketing {
        brand: String,
        theme: String,
        schedule: String,
        posts: Vec<PostPreview>,
    },
    TradeIntent {
        rows: Vec<(String, String)>,
        checks: Vec<Check>,
        errors: Vec<String>,
    },
    Table {
        rows: Vec<(String, String)>,
    },
}

impl PayloadView {
    /// For a list: each post's text cut after `max` characters (with "…"). The list shows a few lines
    /// of each anyway; sending whole 2 000-character texts for 50 items made the queue 150 kB. The
    /// character counts stay those of the whole texts.
    pub fn clipped(mut self, max: usize) -> Self {
        if let PayloadView::Marketing { posts, .. } = &mut self {
            for p in posts {
                if let Some((at, _)) = p.text.char_indices().nth(max) {
                    p.text.truncate(at);
                    p.text.push('…');
                }
            }
        }
        self
    }

    pub fn kind(&self) -> &'static str {
        match self {
            PayloadView::Marketing { .. } => "marketing",
            PayloadView::TradeIntent { .. } => "trade",
            PayloadView::Table { .. } => "table",
        }
    }
}

/// `12345` → `12,345`.
fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `channel:instagram` → "Instagram (channel)"; `exchange:delta_exchange_india` → "Delta
/// exchange india (exchange)".
pub fn integration_words(integration: &str) -> String {
    match integration.split_once(':') {
        Some((kind, name)) => format!("{} ({kind})", title_case(&name.replace('_', " "))),
        None => integration.replace('_', " "),
    }
}

fn title_case(s: &str) -> String {
    match s {
        "linkedin" => "LinkedIn".into(),
        "youtube" => "YouTube".into(),
        "whatsapp" => "WhatsApp".into(),
        _ => {
            let mut c = s.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        }
    }
}

fn text(p: &Value, key: &str) -> String {
    match p.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(v) => value_words(v),
    }
}

/// A field name as a label: `exchange_credential_ref` → "Exchange credential ref".
fn label_of(key: &str) -> String {
    let spaced = key.replace('_', " ");
    let mut c = spaced.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Keys every payload carries that mean nothing to a reader (the ids are on the page already).
const PLUMBING: [&str; 5] = [
    "type",
    "draft_only",
    "goal_template_id",
    "goal_instance_id",
    "debug",
];

/// Keys whose values are machine names.
const WORDY: [&str; 2] = ["intent_action", "exchange_provider"];

/// The rows of a flat table of `p`'s fields (nested objects become "a: b; c: d").
fn rows_of(p: &Value, skip: &[&str]) -> Vec<(String, String)> {
    p.as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| !PLUMBING.contains(&k.as_str()) && !skip.contains(&k.as_str()))
                .map(|(k, v)| {
                    let words = value_words(v);
                    // Machine names read as words ("place_order" → "place order").
                    let words = if WORDY.contains(&k.as_str()) {
                        words.replace('_', " ")
                    } else {
                        words
                    };
                    (label_of(k), words)
                })
                .collect()
        })
        .unwrap_or_default()
}

const CHECK_LABELS: [(&str, &str); 4] = [
    ("coin_allowed", "Coin is on the allowed list"),
    ("side_valid", "Side is buy or sell"),
    ("units_positive", "Units are more than zero"),
    ("within_max_units", "Units within the per-order limit"),
];

/// The view of `payload`; `original` (when the payload is an edited one) marks the changed posts.
pub fn view(payload: &Value, original: Option<&Value>) -> PayloadView {
    match payload.get("type").and_then(Value::as_str) {
        Some("marketing_draft_batch_v1") => {
            let original_text = |platform: &str| -> Option<String> {
                original?
                    .get("variants")?
                    .as_array()?
                    .iter()
                    .find(|v| v.get("platform").and_then(Value::as_str) == Some(platform))
                    .and_then(|v| v.get("text"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            let posts = payload
                .get("variants")
                .and_then(Value::as_array)
                .map(|vs| {
                    vs.iter()
                        .map(|v| {
                            let platform = text(v, "platform");
                            let body = text(v, "text");
                            let chars = body.chars().count();
                            let max_chars = v.get("max_chars").and_then(Value::as_u64);
                            PostPreview {
                                label: title_case(&platform),
                                edited: original_text(&platform).is_some_and(|o| o != body),
                                hashtags: payloads::strings_at(v, "hashtags"),
                                max_hashtags: v.get("max_hashtags").and_then(Value::as_u64),
                                over_limit: max_chars.is_some_and(|m| chars as u64 > m),
                                platform,
                                text: body,
                                chars,
                                max_chars,
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            PayloadView::Marketing {
                brand: text(payload, "brand_name"),
                theme: text(payload, "theme"),
                schedule: text(payload, "suggested_schedule_local"),
                posts,
            }
        }
        Some("trading_intent_plan_v1") => {
            let checks_obj = payload.get("checks");
            let checks = CHECK_LABELS
                .iter()
                .map(|(key, label)| Check {
                    label,
                    passed: checks_obj
                        .and_then(|c| c.get(*key))
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                })
                .collect();
            let errors = payloads::validation_errors(payload)
                .into_iter()
                .map(|e| {
                    CHECK_LABELS
                        .iter()
                        .find(|(k, _)| *k == e)
                        .map(|(_, l)| format!("Failed: {}", l.to_lowercase()))
                        .unwrap_or(e)
                })
                .collect();
            let mut rows = rows_of(payload, &["checks", "validation_errors"]);
            if let Some(max) = checks_obj.and_then(|c| c.get("max_units_per_order")) {
                rows.push(("Max units per order".into(), value_words(max)));
            }
            PayloadView::TradeIntent {
                rows,
                checks,
                errors,
            }
        }
        Some("trading_guardrail_report_v1") => {
            let snapshot = payload.get("snapshot").cloned().unwrap_or(Value::Null);
            let mut rows = rows_of(&snapshot, &["risk_limits"]);
            if let Some(limits) = snapshot.get("risk_limits").and_then(Value::as_object) {
                for (k, v) in limits {
                    rows.push((label_of(k), value_words(v)));
                }
            }
            PayloadView::Table { rows }
        }
        _ => PayloadView::Table {
            rows: rows_of(payload, &[]),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn clipping_cuts_long_texts_on_a_character_and_keeps_the_counts() {
        let payload = serde_json::json!({
            "type": "marketing_draft_batch_v1",
            "variants": [
                {"platform": "instagram", "text": "é".repeat(500), "max_chars": 2200},
                {"platform": "x", "text": "short", "max_chars": 280}
            ]
        });
        let PayloadView::Marketing { posts, .. } = view(&payload, None).clipped(300) else {
            panic!("a marketing view");
        };
        assert_eq!(posts[0].text.chars().count(), 301);
        assert!(posts[0].text.ends_with("é…"));
        assert_eq!(posts[0].chars, 500);
        assert_eq!(posts[1].text, "short");
    }

    #[test]
    fn a_marketing_batch_is_one_preview_per_channel_with_its_limit() {
        let p = json!({"type": "marketing_draft_batch_v1", "brand_name": "Acme", "theme": "Flu",
            "variants": [{"platform": "instagram", "text": "Hello", "hashtags": ["#Acme"], "max_chars": 2200},
                         {"platform": "whatsapp", "text": "x".repeat(1100), "hashtags": [], "max_chars": 1024}]});
        let original = json!({"variants": [{"platform": "instagram", "text": "Hi"},
                                           {"platform": "whatsapp", "text": "x".repeat(1100)}]});
        let PayloadView::Marketing { posts, brand, .. } = view(&p, Some(&original)) else {
            panic!("not a marketing view")
        };
        assert_eq!(brand, "Acme");
        assert_eq!(posts[0].label, "Instagram");
        assert_eq!(posts[0].limit_text(), "5 / 2,200 characters");
        assert!(posts[0].edited && !posts[1].edited);
        assert!(posts[1].over_limit && !posts[0].over_limit);
        assert_eq!(posts[0].hashtag_text(), "1 hashtag");
        assert_eq!(integration_words("channel:linkedin"), "LinkedIn (channel)");
        assert_eq!(
            integration_words("exchange:delta_exchange_india"),
            "Delta exchange india (exchange)"
        );
    }

    #[test]
    fn a_trade_intent_shows_each_check_and_its_errors_in_words() {
        let p = json!({"type": "trading_intent_plan_v1", "coin": "DOGE", "side": "hold", "units": 3.5,
            "checks": {"coin_allowed": false, "side_valid": false, "units_positive": true,
                       "within_max_units": true, "max_units_per_order": 5},
            "validation_errors": ["coin_allowed", "side_valid"]});
        let PayloadView::TradeIntent {
            rows,
            checks,
            errors,
        } = view(&p, None)
        else {
            panic!("not a trade view")
        };
        assert_eq!(checks.iter().filter(|c| c.passed).count(), 2);
        assert_eq!(errors[0], "Failed: coin is on the allowed list");
        assert!(rows.contains(&("Max units per order".into(), "5".into())));
        assert!(!rows.iter().any(|(k, _)| k == "Type" || k == "Checks"));
    }

    #[test]
    fn a_report_is_a_table_without_plumbing() {
        let p = json!({"type": "trading_guardrail_report_v1", "goal_instance_id": "GOI-1",
            "snapshot": {"allowed_coins": ["BTC", "ETH"], "risk_limits": {"max_units_per_order": 3}}});
        let PayloadView::Table { rows } = view(&p, None) else {
            panic!("not a table")
        };
        assert!(rows.contains(&("Allowed coins".into(), "BTC, ETH".into())));
        assert!(rows.contains(&("Max units per order".into(), "3".into())));
        assert!(!rows.iter().any(|(k, _)| k.contains("Goal")));
    }
}
