//! A subscription's lifecycle. `active` until a period ends while set to cancel, then `canceled`
//! for good. Cancelling is a flag (`cancel_at_period_end`) that can be undone while still active;
//! at a period's end an active subscription either ends or renews for the same duration.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SubscriptionStatus {
    Active,
    Canceled,
}

/// What someone asks of a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// End it when the current period ends.
    Cancel,
    /// Keep it after all (before the period ends).
    UndoCancel,
    /// The current period is over.
    PeriodEnd,
}

/// What happens to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `cancel_at_period_end` becomes this.
    CancelFlag(bool),
    /// Status becomes `canceled`, ended at the period's end.
    End,
    /// The next period starts where this one ended.
    Renew,
}

/// Why an event is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Only an active subscription changes.
    NotActive,
    /// Already set to cancel / not set to cancel.
    Unchanged,
}

impl SubscriptionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Option<SubscriptionStatus> {
        [SubscriptionStatus::Active, SubscriptionStatus::Canceled]
            .into_iter()
            .find(|v| v.as_str() == s)
    }

    /// The one rule: what `event` does to a subscription in this status with this cancel flag.
    pub fn transition(self, cancel_at_period_end: bool, event: Event) -> Result<Outcome, Refusal> {
        if self != SubscriptionStatus::Active {
            return Err(Refusal::NotActive);
        }
        match (event, cancel_at_period_end) {
            (Event::Cancel, false) => Ok(Outcome::CancelFlag(true)),
            (Event::UndoCancel, true) => Ok(Outcome::CancelFlag(false)),
            (Event::Cancel, true) | (Event::UndoCancel, false) => Err(Refusal::Unchanged),
            (Event::PeriodEnd, true) => Ok(Outcome::End),
            (Event::PeriodEnd, false) => Ok(Outcome::Renew),
        }
    }
}

impl std::fmt::Display for SubscriptionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::SubscriptionStatus::*;
    use super::*;

    #[test]
    fn cancel_undo_and_period_end() {
        assert_eq!(
            Active.transition(false, Event::Cancel),
            Ok(Outcome::CancelFlag(true))
        );
        assert_eq!(
            Active.transition(true, Event::UndoCancel),
            Ok(Outcome::CancelFlag(false))
        );
        assert_eq!(
            Active.transition(true, Event::Cancel),
            Err(Refusal::Unchanged)
        );
        assert_eq!(
            Active.transition(false, Event::UndoCancel),
            Err(Refusal::Unchanged)
        );
        assert_eq!(Active.transition(true, Event::PeriodEnd), Ok(Outcome::End));
        assert_eq!(
            Active.transition(false, Event::PeriodEnd),
            Ok(Outcome::Renew)
        );
        for flag in [false, true] {
            for e in [Event::Cancel, Event::UndoCancel, Event::PeriodEnd] {
                assert_eq!(Canceled.transition(flag, e), Err(Refusal::NotActive));
            }
        }
    }
}
