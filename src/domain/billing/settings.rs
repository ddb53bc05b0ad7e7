//! Billing settings: payments mode, coupon, seller, billing timezone, retention.

use chrono_tz::Tz;

pub const DEFAULT_COUPON_CODE: &str = "WAOOAW100";
pub const DEFAULT_SELLER_LEGAL_NAME: &str = "WAOOAW";
pub const DEFAULT_SELLER_STATE_CODE: &str = "27";
pub const DEFAULT_BILLING_TIMEZONE: &str = "Asia/Kolkata";
pub const DEFAULT_END_RETENTION_DAYS: i64 = 30;

/// How customers pay. Only coupon checkout exists; any other mode stops the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentsMode {
    Coupon,
}

impl PaymentsMode {
    pub fn as_str(self) -> &'static str {
        "coupon"
    }
}

#[derive(Debug, Clone)]
pub struct BillingSettings {
    pub payments_mode: PaymentsMode,
    pub coupon_code: String,
    /// How much of the list price the coupon takes off, in percent (100: the period is free).
    pub coupon_discount_percent: u8,
    pub seller_legal_name: String,
    pub seller_gstin: Option<String>,
    pub seller_state_code: String,
    pub timezone: Tz,
    /// How long a canceled subscription's pages stay readable after it ended.
    pub end_retention_days: i64,
}

impl Default for BillingSettings {
    fn default() -> Self {
        BillingSettings {
            payments_mode: PaymentsMode::Coupon,
            coupon_code: DEFAULT_COUPON_CODE.into(),
            coupon_discount_percent: 100,
            seller_legal_name: DEFAULT_SELLER_LEGAL_NAME.into(),
            seller_gstin: None,
            seller_state_code: DEFAULT_SELLER_STATE_CODE.into(),
            timezone: chrono_tz::Asia::Kolkata,
            end_retention_days: DEFAULT_END_RETENTION_DAYS,
        }
    }
}

fn is_gstin(s: &str) -> bool {
    s.len() == 15
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
}

impl BillingSettings {
    /// Reads and checks the `AGENTDESK_*` billing variables; a bad value is named in the error.
    pub fn from_lookup(get: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<BillingSettings> {
        let d = BillingSettings::default();
        if let Some(mode) = get("AGENTDESK_PAYMENTS_MODE")
            && !mode.trim().eq_ignore_ascii_case("coupon")
        {
            anyhow::bail!(
                "AGENTDESK_PAYMENTS_MODE={:?} is not supported: the only payments mode is \
                 \"coupon\" (card payments are not built yet)",
                mode.trim()
            );
        }
        let coupon_code = get("AGENTDESK_COUPON_CODE")
            .map(|c| c.trim().to_string())
            .unwrap_or(d.coupon_code);
        if coupon_code.len() > 64
            || !coupon_code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            anyhow::bail!("AGENTDESK_COUPON_CODE must be 1 to 64 letters, digits, - or _");
        }
        let coupon_discount_percent = match get("AGENTDESK_COUPON_DISCOUNT_PERCENT") {
            None => d.coupon_discount_percent,
            Some(v) => match v.trim().parse::<u8>() {
                Ok(p) if (1..=100).contains(&p) => p,
                _ => anyhow::bail!(
                    "AGENTDESK_COUPON_DISCOUNT_PERCENT must be a whole number from 1 to 100, got {v:?}"
                ),
            },
        };
        let seller_gstin = get("AGENTDESK_SELLER_GSTIN").map(|g| g.trim().to_ascii_uppercase());
        if let Some(g) = &seller_gstin
            && !is_gstin(g)
        {
            anyhow::bail!("AGENTDESK_SELLER_GSTIN must be 15 characters 0-9 A-Z, got {g:?}");
        }
        let seller_state_code = match get("AGENTDESK_SELLER_STATE_CODE") {
            Some(c) => c.trim().to_string(),
            None => seller_gstin
                .as_ref()
                .map(|g| g[..2].to_string())
                .unwrap_or(d.seller_state_code),
        };
        if seller_state_code.len() != 2 || !seller_state_code.bytes().all(|b| b.is_ascii_digit()) {
            anyhow::bail!(
                "AGENTDESK_SELLER_STATE_CODE must be two digits like 27, got {seller_state_code:?}"
            );
        }
        if let Some(g) = &seller_gstin
            && g[..2] != seller_state_code
        {
            anyhow::bail!(
                "AGENTDESK_SELLER_STATE_CODE ({seller_state_code}) differs from the state code of \
                 AGENTDESK_SELLER_GSTIN ({})",
                &g[..2]
            );
        }
        let timezone = match get("AGENTDESK_BILLING_TIMEZONE") {
            None => d.timezone,
            Some(tz) => tz.trim().parse::<Tz>().map_err(|_| {
                anyhow::anyhow!(
                    "AGENTDESK_BILLING_TIMEZONE must be an IANA timezone like Asia/Kolkata, got {tz:?}"
                )
            })?,
        };
        let end_retention_days = match get("AGENTDESK_END_RETENTION_DAYS") {
            None => d.end_retention_days,
            Some(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "AGENTDESK_END_RETENTION_DAYS must be a whole number of days, got {v:?}"
                    )
                })?,
        };
        Ok(BillingSettings {
            payments_mode: PaymentsMode::Coupon,
            coupon_code,
            coupon_discount_percent,
            seller_legal_name: get("AGENTDESK_SELLER_LEGAL_NAME")
                .map(|n| n.trim().to_string())
                .unwrap_or(d.seller_legal_name),
            seller_gstin,
            seller_state_code,
            timezone,
            end_retention_days,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> anyhow::Result<BillingSettings> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        BillingSettings::from_lookup(&|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_and_refusals() {
        let s = with(&[]).unwrap();
        assert_eq!(s.coupon_code, "WAOOAW100");
        assert_eq!(s.seller_state_code, "27");
        assert_eq!(s.timezone, chrono_tz::Asia::Kolkata);
        let err = with(&[("AGENTDESK_PAYMENTS_MODE", "razorpay")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("AGENTDESK_PAYMENTS_MODE") && err.contains("coupon"),
            "{err}"
        );
        assert!(with(&[("AGENTDESK_BILLING_TIMEZONE", "Mars/Base")]).is_err());
        assert!(with(&[("AGENTDESK_SELLER_STATE_CODE", "7")]).is_err());
        assert!(with(&[("AGENTDESK_COUPON_DISCOUNT_PERCENT", "0")]).is_err());
        let s = with(&[("AGENTDESK_SELLER_GSTIN", "29abcde1234f1z5")]).unwrap();
        assert_eq!(s.seller_state_code, "29");
        assert!(
            with(&[
                ("AGENTDESK_SELLER_GSTIN", "29ABCDE1234F1Z5"),
                ("AGENTDESK_SELLER_STATE_CODE", "27")
            ])
            .is_err()
        );
    }
}
