//! Who is acting, and whose data a read may see. Produced once per request by the role guards (or
//! by the command line and start-up as the system), passed to every service function; every audit
//! entry (and later every approval record) is made from it.

use chrono::{DateTime, Utc};

use super::roles::Role;

#[derive(Debug, Clone)]
pub struct Actor {
    /// The signed-in user; `None` for the system (start-up, command line, scheduler).
    pub user_id: Option<i64>,
    pub role: Option<Role>,
    /// The customer a staff member acts for (recorded as on behalf), when they do.
    pub on_behalf_of: Option<String>,
    pub correlation_id: String,
    pub now: DateTime<Utc>,
}

impl Actor {
    /// Changes made from the command line or at start-up, by nobody signed in.
    pub fn system(correlation_id: impl Into<String>, now: DateTime<Utc>) -> Self {
        Actor {
            user_id: None,
            role: None,
            on_behalf_of: None,
            correlation_id: correlation_id.into(),
            now,
        }
    }

    /// A signed-in user acting for themselves.
    pub fn user(
        user_id: i64,
        role: Role,
        correlation_id: impl Into<String>,
        now: DateTime<Utc>,
    ) -> Self {
        Actor {
            user_id: Some(user_id),
            role: Some(role),
            on_behalf_of: None,
            correlation_id: correlation_id.into(),
            now,
        }
    }

    /// The same person acting for a customer.
    pub fn on_behalf_of(mut self, customer_id: impl Into<String>) -> Self {
        self.on_behalf_of = Some(customer_id.into());
        self
    }

    /// Staff changing a customer's data act on that customer's behalf; a customer acts for itself.
    pub fn on_behalf_if_staff(self, scope: &Scope, customer_id: &str) -> Self {
        if scope.is_staff() {
            self.on_behalf_of(customer_id)
        } else {
            self
        }
    }

    pub fn is(&self, user_id: i64) -> bool {
        self.user_id == Some(user_id)
    }
}

/// Whose data a read may see: decided once, from the principal, never per handler. A customer scope
/// adds the customer to every query, and a miss is "not found" (existence does not leak).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Staff see every customer's data.
    Staff,
    /// A customer's user sees that customer's data only.
    Customer(String),
}

impl Scope {
    /// The customer a query must be limited to, if any.
    pub fn customer(&self) -> Option<&str> {
        match self {
            Scope::Staff => None,
            Scope::Customer(id) => Some(id),
        }
    }

    pub fn is_staff(&self) -> bool {
        matches!(self, Scope::Staff)
    }

    /// Whether an object belonging to `owner` (a customer id) is visible in this scope.
    pub fn sees(&self, owner: &str) -> bool {
        match self {
            Scope::Staff => true,
            Scope::Customer(id) => id == owner,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customer_scope_sees_only_its_own() {
        let s = Scope::Customer("CUS-1".into());
        assert!(s.sees("CUS-1"));
        assert!(!s.sees("CUS-2"));
        assert_eq!(s.customer(), Some("CUS-1"));
        assert!(Scope::Staff.sees("CUS-2"));
        assert_eq!(Scope::Staff.customer(), None);
    }
}
