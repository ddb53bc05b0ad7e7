//! When a goal is due: period keys and the start of the next period, in the agent's timezone.
//!
//! A goal with a frequency produces at most one deliverable per period; the period is named by a
//! key: `daily:YYYY-MM-DD`, `weekly:YYYY-Www` (ISO 8601 week and week-year), `monthly:YYYY-MM`,
//! each read in the agent's timezone. `on_demand` goals have no periods (they run when asked).
//! Local midnights that do not exist (a DST jump at 00:00) start at the first instant that does.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Daily,
    Weekly,
    Monthly,
    OnDemand,
}

impl Frequency {
    pub const ALL: [Frequency; 4] = [
        Frequency::Daily,
        Frequency::Weekly,
        Frequency::Monthly,
        Frequency::OnDemand,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
            Frequency::Monthly => "monthly",
            Frequency::OnDemand => "on_demand",
        }
    }

    pub fn parse(s: &str) -> Option<Frequency> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Frequency::Daily => "Daily",
            Frequency::Weekly => "Weekly",
            Frequency::Monthly => "Monthly",
            Frequency::OnDemand => "On demand",
        }
    }
}

/// The agent's timezone from its configured name; UTC when missing or not an IANA name.
pub fn timezone(name: Option<&str>) -> Tz {
    name.and_then(|n| n.trim().parse::<Tz>().ok())
        .unwrap_or(chrono_tz::UTC)
}

/// The key of the period `at` falls in (`None` for `on_demand`).
pub fn period_key(frequency: Frequency, at: DateTime<Utc>, tz: Tz) -> Option<String> {
    let day = at.with_timezone(&tz).date_naive();
    match frequency {
        Frequency::Daily => Some(format!("daily:{}", day.format("%Y-%m-%d"))),
        Frequency::Weekly => {
            let w = day.iso_week();
            Some(format!("weekly:{:04}-W{:02}", w.year(), w.week()))
        }
        Frequency::Monthly => Some(format!("monthly:{:04}-{:02}", day.year(), day.month())),
        Frequency::OnDemand => None,
    }
}

/// The first local day of the period after the one `day` is in.
fn next_period_day(frequency: Frequency, day: NaiveDate) -> Option<NaiveDate> {
    match frequency {
        Frequency::Daily => day.succ_opt(),
        Frequency::Weekly => {
            let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
            monday.checked_add_signed(Duration::days(7))
        }
        Frequency::Monthly => {
            let (y, m) = if day.month() == 12 {
                (day.year() + 1, 1)
            } else {
                (day.year(), day.month() + 1)
            };
            NaiveDate::from_ymd_opt(y, m, 1)
        }
        Frequency::OnDemand => None,
    }
}

/// The first instant of local day `day` in `tz` (its midnight, or the first instant after a gap).
fn start_of_day(day: NaiveDate, tz: Tz) -> Option<DateTime<Utc>> {
    let midnight = day.and_hms_opt(0, 0, 0)?;
    match tz.from_local_datetime(&midnight) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        // Clocks went back over midnight: the day starts at the first of the two.
        LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
        // Clocks jumped over midnight: the day starts when they land, at most a few hours on.
        LocalResult::None => (1..=4 * 60).find_map(|m| {
            tz.from_local_datetime(&(midnight + Duration::minutes(m)))
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        }),
    }
}

/// When the next period after the one `at` falls in starts (`None` for `on_demand`).
pub fn next_due(frequency: Frequency, at: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
    let mut day = next_period_day(frequency, at.with_timezone(&tz).date_naive())?;
    // A zone may skip a whole local day (Pacific/Apia skipped 30 Dec 2011): then the next one.
    for _ in 0..3 {
        if let Some(t) = start_of_day(day, tz) {
            return Some(t);
        }
        day = day.succ_opt()?;
    }
    None
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn keys_name_the_local_period() {
        let kolkata = chrono_tz::Asia::Kolkata;
        // 20:00 UTC on 31 Dec is already 1 Jan in India.
        let t = utc("2026-12-31T20:00:00Z");
        assert_eq!(
            period_key(Frequency::Daily, t, kolkata).unwrap(),
            "daily:2027-01-01"
        );
        assert_eq!(
            period_key(Frequency::Monthly, t, kolkata).unwrap(),
            "monthly:2027-01"
        );
        assert_eq!(
            period_key(Frequency::Daily, t, chrono_tz::UTC).unwrap(),
            "daily:2026-12-31"
        );
        assert_eq!(period_key(Frequency::OnDemand, t, kolkata), None);
    }

    #[test]
    fn iso_weeks_cross_year_ends() {
        let utc_tz = chrono_tz::UTC;
        // 2020 has an ISO week 53; 30 Dec 2024 is in week 1 of 2025.
        assert_eq!(
            period_key(Frequency::Weekly, utc("2020-12-31T12:00:00Z"), utc_tz).unwrap(),
            "weekly:2020-W53"
        );
        assert_eq!(
            period_key(Frequency::Weekly, utc("2021-01-03T12:00:00Z"), utc_tz).unwrap(),
            "weekly:2020-W53"
        );
        assert_eq!(
            period_key(Frequency::Weekly, utc("2024-12-30T12:00:00Z"), utc_tz).unwrap(),
            "weekly:2025-W01"
        );
        assert_eq!(
            next_due(Frequency::Weekly, utc("2024-12-30T12:00:00Z"), utc_tz).unwrap(),
            utc("2025-01-06T00:00:00Z")
        );
    }

    #[test]
    fn next_due_is_local_midnight_even_across_dst() {
        let ny = chrono_tz::America::New_York;
        // The night clocks go forward (8 Mar 2026) and back (1 Nov 2026): still local midnight.
        assert_eq!(
            next_due(Frequency::Daily, utc("2026-03-08T12:00:00Z"), ny).unwrap(),
            utc("2026-03-09T04:00:00Z")
        );
        assert_eq!(
            next_due(Frequency::Daily, utc("2026-11-01T12:00:00Z"), ny).unwrap(),
            utc("2026-11-02T05:00:00Z")
        );
        assert_eq!(
            next_due(Frequency::Monthly, utc("2026-12-15T12:00:00Z"), ny).unwrap(),
            utc("2027-01-01T05:00:00Z")
        );
        // Where the clocks jumped over midnight (Sao Paulo, 4 Nov 2018), the day starts at 01:00.
        let sp = chrono_tz::America::Sao_Paulo;
        assert_eq!(
            next_due(Frequency::Daily, utc("2018-11-03T15:00:00Z"), sp).unwrap(),
            utc("2018-11-04T03:00:00Z")
        );
        // Samoa skipped 30 Dec 2011 entirely: after the 29th comes the 31st.
        let apia = chrono_tz::Pacific::Apia;
        assert_eq!(
            next_due(Frequency::Daily, utc("2011-12-29T12:00:00Z"), apia).unwrap(),
            utc("2011-12-30T10:00:00Z")
        );
        assert_eq!(timezone(Some("Mars/Base")), chrono_tz::UTC);
        assert_eq!(timezone(None), chrono_tz::UTC);
    }

    /// Over random instants and zones (seeded): the next period starts after `at`, has another
    /// key, and the instant before it still has `at`'s key, so no period is skipped or repeated.
    #[test]
    fn periods_follow_each_other_without_gaps() {
        let zones = [
            chrono_tz::UTC,
            chrono_tz::Asia::Kolkata,
            chrono_tz::America::New_York,
            chrono_tz::Europe::London,
            chrono_tz::Australia::Lord_Howe,
            chrono_tz::America::Sao_Paulo,
            chrono_tz::Pacific::Apia,
        ];
        let mut rng = StdRng::seed_from_u64(0x5eed);
        let start = utc("2010-01-01T00:00:00Z").timestamp();
        let end = utc("2035-01-01T00:00:00Z").timestamp();
        for _ in 0..20_000 {
            let at = DateTime::from_timestamp(rng.random_range(start..end), 0).unwrap();
            let tz = zones[rng.random_range(0..zones.len())];
            for f in [Frequency::Daily, Frequency::Weekly, Frequency::Monthly] {
                let key = period_key(f, at, tz).unwrap();
                let next = next_due(f, at, tz).unwrap();
                assert!(next > at, "{f:?} {at} {tz}");
                let next_key = period_key(f, next, tz).unwrap();
                assert_ne!(next_key, key, "{f:?} {at} {tz}");
                assert_eq!(
                    period_key(f, next - Duration::seconds(1), tz).unwrap(),
                    key,
                    "{f:?} {at} {tz}"
                );
                assert!(next - at <= Duration::days(32), "{f:?} {at} {tz}");
            }
        }
    }
}
