//! A deliverable's review and execution states, and the execution gate (SPEC §7): only a
//! `pending_review` deliverable can be decided, and an approved one is executed only when the
//! policy allows it — an external action needs the deliverable's own approval id when the agent
//! type requires approval, and a trading intent with validation errors never runs.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::deliverable_payloads::{is_external, validation_errors};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    PendingReview,
    Approved,
    Rejected,
}

impl ReviewStatus {
    pub const ALL: [ReviewStatus; 3] = [
        ReviewStatus::PendingReview,
        ReviewStatus::Approved,
        ReviewStatus::Rejected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::PendingReview => "pending_review",
            ReviewStatus::Approved => "approved",
            ReviewStatus::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewStatus> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            ReviewStatus::PendingReview => "Waiting for review",
            ReviewStatus::Approved => "Approved",
            ReviewStatus::Rejected => "Rejected",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExecutionStatus {
    NotExecuted,
    Executing,
    Executed,
    Failed,
}

impl ExecutionStatus {
    pub const ALL: [ExecutionStatus; 4] = [
        ExecutionStatus::NotExecuted,
        ExecutionStatus::Executing,
        ExecutionStatus::Executed,
        ExecutionStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::NotExecuted => "not_executed",
            ExecutionStatus::Executing => "executing",
            ExecutionStatus::Executed => "executed",
            ExecutionStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<ExecutionStatus> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// What a reviewer decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    /// Approve an edited payload (the approval keeps both).
    ApproveWithEdits,
    /// Reject, with a reason (required).
    Reject,
}

impl Decision {
    /// The review status a decision leads to.
    pub fn outcome(self) -> ReviewStatus {
        match self {
            Decision::Approve | Decision::ApproveWithEdits => ReviewStatus::Approved,
            Decision::Reject => ReviewStatus::Rejected,
        }
    }
}

/// Only a deliverable waiting for review can be decided (exactly one of two people at once wins).
pub fn can_decide(status: ReviewStatus) -> bool {
    status == ReviewStatus::PendingReview
}

/// Why an execution is denied (stored, and answered as 403 "Policy Enforcement Denied").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DenyReason {
    /// The action reaches the outside world and no approval id was presented.
    ApprovalRequired,
    /// The presented approval id is not this deliverable's approval.
    ApprovalInvalid,
    /// A trading intent whose checks failed.
    GuardrailFailed,
}

impl DenyReason {
    pub const ALL: [DenyReason; 3] = [
        DenyReason::ApprovalRequired,
        DenyReason::ApprovalInvalid,
        DenyReason::GuardrailFailed,
    ];

    pub fn parse(s: &str) -> Option<DenyReason> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DenyReason::ApprovalRequired => "approval_required",
            DenyReason::ApprovalInvalid => "approval_invalid",
            DenyReason::GuardrailFailed => "guardrail_failed",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            DenyReason::ApprovalRequired => {
                "This action reaches the outside world: it needs the deliverable's approval id."
            }
            DenyReason::ApprovalInvalid => "The approval id is not this deliverable's approval.",
            DenyReason::GuardrailFailed => {
                "The trade intent failed its checks; it is not executed as it is."
            }
        }
    }
}

/// What an execution request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Not approved (yet, or rejected): 409.
    NotApproved,
    /// Refused by the policy: stored and answered 403.
    Denied(DenyReason),
    /// Already executed: the first result, nothing new written.
    AlreadyExecuted,
    /// Run it.
    Allowed,
}

/// What the gate looks at.
#[derive(Debug, Clone, Copy)]
pub struct ExecuteRequest<'a> {
    /// The agent type's `enforcement_defaults.approval_required`.
    pub approval_required: bool,
    pub review: ReviewStatus,
    pub execution: ExecutionStatus,
    /// The payload execution would use (the edited one when there is one).
    pub payload: &'a Value,
    pub presented_approval: Option<&'a str>,
    pub stored_approval: Option<&'a str>,
}

/// The execution gate. The policy is checked before the replay of an earlier execution, so a
/// request without the approval id is denied (and recorded) even after one succeeded.
pub fn gate(r: &ExecuteRequest) -> Gate {
    if r.review != ReviewStatus::Approved {
        return Gate::NotApproved;
    }
    let presented = r
        .presented_approval
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if r.approval_required && is_external(r.payload) {
        match presented {
            None => return Gate::Denied(DenyReason::ApprovalRequired),
            Some(p) if Some(p) != r.stored_approval => {
                return Gate::Denied(DenyReason::ApprovalInvalid);
            }
            Some(_) => {}
        }
    } else if let Some(p) = presented
        && Some(p) != r.stored_approval
    {
        // A wrong id is wrong even where none is needed.
        return Gate::Denied(DenyReason::ApprovalInvalid);
    }
    if !validation_errors(r.payload).is_empty() {
        return Gate::Denied(DenyReason::GuardrailFailed);
    }
    match r.execution {
        ExecutionStatus::Executed | ExecutionStatus::Executing => Gate::AlreadyExecuted,
        ExecutionStatus::NotExecuted | ExecutionStatus::Failed => Gate::Allowed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req<'a>(payload: &'a Value, presented: Option<&'a str>) -> ExecuteRequest<'a> {
        ExecuteRequest {
            approval_required: true,
            review: ReviewStatus::Approved,
            execution: ExecutionStatus::NotExecuted,
            payload,
            presented_approval: presented,
            stored_approval: Some("APR-1"),
        }
    }

    #[test]
    fn external_actions_need_their_own_approval() {
        let p = json!({"intent_action": "publish"});
        assert_eq!(
            gate(&req(&p, None)),
            Gate::Denied(DenyReason::ApprovalRequired)
        );
        assert_eq!(
            gate(&req(&p, Some("  "))),
            Gate::Denied(DenyReason::ApprovalRequired)
        );
        assert_eq!(
            gate(&req(&p, Some("APR-2"))),
            Gate::Denied(DenyReason::ApprovalInvalid)
        );
        assert_eq!(gate(&req(&p, Some("APR-1"))), Gate::Allowed);
        // No intent_action means publish.
        assert_eq!(
            gate(&req(&json!({}), None)),
            Gate::Denied(DenyReason::ApprovalRequired)
        );
        // A type that does not require approval, or an internal action, runs without one.
        let mut r = req(&p, None);
        r.approval_required = false;
        assert_eq!(gate(&r), Gate::Allowed);
        let internal = json!({"intent_action": "report"});
        assert_eq!(gate(&req(&internal, None)), Gate::Allowed);
    }

    #[test]
    fn failed_checks_never_run_and_only_approved_ones_do() {
        let p = json!({"intent_action": "place_order", "validation_errors": ["coin_allowed"]});
        assert_eq!(
            gate(&req(&p, Some("APR-1"))),
            Gate::Denied(DenyReason::GuardrailFailed)
        );
        let ok = json!({"intent_action": "place_order", "validation_errors": []});
        for review in [ReviewStatus::PendingReview, ReviewStatus::Rejected] {
            let mut r = req(&ok, Some("APR-1"));
            r.review = review;
            assert_eq!(gate(&r), Gate::NotApproved);
        }
    }

    #[test]
    fn executing_twice_replays_but_a_missing_approval_is_still_denied() {
        let p = json!({"intent_action": "close_position"});
        let mut r = req(&p, Some("APR-1"));
        r.execution = ExecutionStatus::Executed;
        assert_eq!(gate(&r), Gate::AlreadyExecuted);
        r.presented_approval = None;
        assert_eq!(gate(&r), Gate::Denied(DenyReason::ApprovalRequired));
        r.presented_approval = Some("APR-1");
        r.execution = ExecutionStatus::Failed;
        assert_eq!(gate(&r), Gate::Allowed, "a failed run may be tried again");
    }

    #[test]
    fn decisions_only_on_waiting_deliverables() {
        assert!(can_decide(ReviewStatus::PendingReview));
        assert!(!can_decide(ReviewStatus::Approved));
        assert!(!can_decide(ReviewStatus::Rejected));
        assert_eq!(Decision::ApproveWithEdits.outcome(), ReviewStatus::Approved);
        assert_eq!(Decision::Reject.outcome(), ReviewStatus::Rejected);
        for s in ReviewStatus::ALL {
            assert_eq!(ReviewStatus::parse(s.as_str()), Some(s));
        }
        for s in ExecutionStatus::ALL {
            assert_eq!(ExecutionStatus::parse(s.as_str()), Some(s));
        }
    }
}
