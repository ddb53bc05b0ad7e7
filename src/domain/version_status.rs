//! The lifecycle of an agent type version: `draft → published → retired`, nothing else. Stored as
//! TEXT with a CHECK constraint; every change goes through [`VersionStatus::transition`].

use serde::{Deserialize, Serialize};

/// Where a version is in its lifecycle: `draft → published → retired`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum VersionStatus {
    Draft,
    Published,
    Retired,
}

/// Why a status change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// It has this status already.
    Already(VersionStatus),
    /// A draft cannot be retired: publish it or leave it.
    DraftCannotRetire,
    /// A retired version never comes back.
    RetiredStaysRetired,
    /// Nothing becomes a draft again.
    BackToDraft,
}

impl VersionStatus {
    pub const ALL: [VersionStatus; 3] = [
        VersionStatus::Draft,
        VersionStatus::Published,
        VersionStatus::Retired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VersionStatus::Draft => "draft",
            VersionStatus::Published => "published",
            VersionStatus::Retired => "retired",
        }
    }

    pub fn parse(s: &str) -> Option<VersionStatus> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The one rule for status changes.
    pub fn transition(self, to: VersionStatus) -> Result<VersionStatus, Refusal> {
        use VersionStatus::*;
        match (self, to) {
            (Draft, Published) | (Published, Retired) => Ok(to),
            (Draft, Draft) | (Published, Published) | (Retired, Retired) => {
                Err(Refusal::Already(self))
            }
            (Draft, Retired) => Err(Refusal::DraftCannotRetire),
            (Retired, _) => Err(Refusal::RetiredStaysRetired),
            (Published, Draft) => Err(Refusal::BackToDraft),
        }
    }

    /// Only drafts may be edited.
    pub fn is_editable(self) -> bool {
        self == VersionStatus::Draft
    }
}

impl std::fmt::Display for VersionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::VersionStatus::*;
    use super::*;

    #[test]
    fn every_pair_has_one_answer() {
        for from in VersionStatus::ALL {
            for to in VersionStatus::ALL {
                let allowed = matches!((from, to), (Draft, Published) | (Published, Retired));
                assert_eq!(from.transition(to).is_ok(), allowed, "{from} → {to}");
            }
        }
        assert_eq!(Draft.transition(Retired), Err(Refusal::DraftCannotRetire));
        assert_eq!(
            Retired.transition(Published),
            Err(Refusal::RetiredStaysRetired)
        );
        assert_eq!(
            Published.transition(Published),
            Err(Refusal::Already(Published))
        );
    }

    #[test]
    fn text_round_trips_and_unknown_is_none() {
        for s in VersionStatus::ALL {
            assert_eq!(VersionStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(VersionStatus::parse("Published"), None);
    }
}
