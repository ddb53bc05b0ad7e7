//! Billing rules: durations and their prices, the coupon, GST, document numbers and the Phase-1
//! listing-id rule. Pure functions; every amount is an integer number of paise.

pub mod gst;
pub mod money;
pub mod numbers;
pub mod settings;
pub mod subscription_status;

use chrono::{DateTime, Duration as Span, Utc};
use serde::{Deserialize, Serialize};

/// How long one bought period lasts, and what it lists at: `monthly` 30 days ₹12,000,
/// `quarterly` 90 days ₹36,000, `yearly` 365 days ₹1,44,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Duration {
    Monthly,
    Quarterly,
    Yearly,
}

impl Duration {
    pub const ALL: [Duration; 3] = [Duration::Monthly, Duration::Quarterly, Duration::Yearly];

    pub fn as_str(self) -> &'static str {
        match self {
            Duration::Monthly => "monthly",
            Duration::Quarterly => "quarterly",
            Duration::Yearly => "yearly",
        }
    }

    /// Accepts the stored names, ignoring surrounding spaces and case (as Phase 1 did).
    pub fn parse(s: &str) -> Option<Duration> {
        let s = s.trim().to_ascii_lowercase();
        Self::ALL.into_iter().find(|d| d.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Duration::Monthly => "Monthly",
            Duration::Quarterly => "Quarterly",
            Duration::Yearly => "Yearly",
        }
    }

    pub fn days(self) -> i64 {
        match self {
            Duration::Monthly => 30,
            Duration::Quarterly => 90,
            Duration::Yearly => 365,
        }
    }

    /// List price of one period, in paise (12 000 / 36 000 / 144 000 INR).
    pub fn list_price_paise(self) -> i64 {
        let rupees = match self {
            Duration::Monthly => 12_000,
            Duration::Quarterly => 36_000,
            Duration::Yearly => 144_000,
        };
        rupees * 100
    }

    /// The end of a period that starts at `start`.
    pub fn period_end(self, start: DateTime<Utc>) -> DateTime<Utc> {
        start + Span::days(self.days())
    }
}

impl std::fmt::Display for Duration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The discount a coupon gives on a list price: `percent` of it, rounded down to the paisa (so a
/// 100 % coupon makes the period free).
pub fn coupon_discount(list_paise: i64, percent: u8) -> i64 {
    list_paise * i64::from(percent.min(100)) / 100
}

/// True when `given` is the configured coupon: surrounding spaces ignored, letters compared
/// without regard to case (codes are printed in capitals and typed however).
pub fn coupon_matches(given: &str, configured: &str) -> bool {
    given.trim().eq_ignore_ascii_case(configured.trim())
}

/// The one place that maps a Phase-1 listing id to an agent type: after trimming and
/// upper-casing, `AGT-TRD-…` is the trading type and `AGT-MKT-…` the marketing one.
pub fn agent_type_from_listing_id(agent_id: &str) -> Option<&'static str> {
    let id = agent_id.trim().to_ascii_uppercase();
    if id.starts_with("AGT-TRD-") {
        Some("trading.delta_futures.v1")
    } else if id.starts_with("AGT-MKT-") {
        Some("marketing.healthcare.v1")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_carry_the_phase1_prices_and_periods() {
        assert_eq!(Duration::parse(" Monthly "), Some(Duration::Monthly));
        assert_eq!(Duration::parse("weekly"), None);
        assert_eq!(Duration::Monthly.list_price_paise(), 1_200_000);
        assert_eq!(Duration::Quarterly.list_price_paise(), 3_600_000);
        assert_eq!(Duration::Yearly.list_price_paise(), 14_400_000);
        let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            Duration::Yearly.period_end(start).to_rfc3339(),
            "2027-01-01T00:00:00+00:00"
        );
        assert_eq!(
            Duration::Monthly.period_end(start).to_rfc3339(),
            "2026-01-31T00:00:00+00:00"
        );
    }

    #[test]
    fn coupon_is_compared_trimmed_and_case_blind() {
        assert!(coupon_matches("  waooaw100 ", "WAOOAW100"));
        assert!(!coupon_matches("WAOOAW10", "WAOOAW100"));
        assert_eq!(coupon_discount(1_200_000, 100), 1_200_000);
        assert_eq!(coupon_discount(1_200_000, 10), 120_000);
        assert_eq!(coupon_discount(999, 33), 329);
    }

    #[test]
    fn listing_ids_map_by_prefix() {
        assert_eq!(
            agent_type_from_listing_id(" agt-trd-delta-001"),
            Some("trading.delta_futures.v1")
        );
        assert_eq!(
            agent_type_from_listing_id("AGT-MKT-HEALTH-001"),
            Some("marketing.healthcare.v1")
        );
        assert_eq!(agent_type_from_listing_id("AGT-XYZ-1"), None);
    }
}
