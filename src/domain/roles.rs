use serde::{Deserialize, Serialize};

/// What a user may do: staff roles work in `/admin`, customer users in `/portal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Operator,
    Viewer,
    Customer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Operator, Role::Viewer, Role::Customer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Viewer => "viewer",
            Role::Customer => "customer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Operator => "Operator",
            Role::Viewer => "Viewer",
            Role::Customer => "Customer",
        }
    }

    pub fn is_staff(self) -> bool {
        !matches!(self, Role::Customer)
    }

    /// Staff who may change things in `/admin` (a viewer only reads).
    pub fn can_write_admin(self) -> bool {
        matches!(self, Role::Admin | Role::Operator)
    }

    /// Where this role lands after signing in.
    pub fn home(self) -> &'static str {
        if self.is_staff() { "/admin" } else { "/portal" }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The shortest password accepted anywhere.
pub const MIN_PASSWORD_LEN: usize = 12;
pub const MAX_PASSWORD_LEN: usize = 256;

/// Why a new password is refused, in words for the form.
pub fn password_problem(password: &str) -> Option<String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        Some(format!(
            "Use at least {MIN_PASSWORD_LEN} characters (this one has {n})."
        ))
    } else if n > MAX_PASSWORD_LEN {
        Some(format!("Use at most {MAX_PASSWORD_LEN} characters."))
    } else {
        None
    }
}

/// A normalised e-mail address, or why it is not one. Deliberately simple: something@domain.tld.
pub fn normalise_email(raw: &str) -> Result<String, &'static str> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return Err("Enter an e-mail address.");
    }
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("Enter a valid e-mail address, like name@example.com.");
    }
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@') =>
        {
            Ok(email)
        }
        _ => Err("Enter a valid e-mail address, like name@example.com."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_homes() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
        assert_eq!(Role::Viewer.home(), "/admin");
        assert_eq!(Role::Customer.home(), "/portal");
        assert!(!Role::Viewer.can_write_admin());
    }

    #[test]
    fn password_rules() {
        assert!(password_problem("short").unwrap().contains("at least 12"));
        assert!(password_problem("twelve chars").is_none());
    }

    #[test]
    fn emails() {
        assert_eq!(
            normalise_email(" Ann@Example.COM ").unwrap(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@x.io",
            "ann@localhost",
            "a b@x.io",
            "a@x@y.io",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad}");
        }
    }
}
