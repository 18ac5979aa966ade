//! Who may do what: the roles, the caller of a request, and the rule for objects that have an owner.
//!
//! Roles are ordered: an `admin` may do everything an `editor` may, an `editor` everything a
//! `viewer` may. Datasets, experiments and runs belong to the user who created them; a caller sees
//! their own objects, an admin sees everyone's. Whatever a caller may not see does not exist for
//! them, so that no answer reveals another user's object.

use std::fmt;
use std::str::FromStr;

/// A role, from least to most privileged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything it can see.
    Viewer,
    /// Also creates datasets, experiments and runs, and changes, cancels or deletes its own.
    Editor,
    /// Also manages connections and storage (the objects that hold secrets), sees every user's
    /// objects and may delete anything.
    Admin,
}

impl Role {
    /// Every role, least privileged first.
    pub const ALL: [Role; 3] = [Self::Viewer, Self::Editor, Self::Admin];

    /// The name (`viewer`, `editor`, `admin`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Editor => "editor",
            Self::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not `viewer`, `editor` or `admin`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a role: use viewer, editor or admin")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    /// Case-insensitive.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| UnknownRole(name.to_owned()))
    }
}

/// The identity a request acts as: a user and the highest role they hold (none at all is
/// possible: an identified user whose token grants no role may do nothing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    user: String,
    role: Option<Role>,
}

impl Caller {
    /// The user of development mode (`auth.mode = none`).
    pub const DEVELOPMENT_USER: &'static str = "dev@localhost";

    /// `user` holding the highest of `roles`.
    pub fn new(user: impl Into<String>, roles: impl IntoIterator<Item = Role>) -> Self {
        Self { user: user.into(), role: roles.into_iter().max() }
    }

    /// The caller of development mode: `dev@localhost`, admin.
    pub fn development() -> Self {
        Self::new(Self::DEVELOPMENT_USER, [Role::Admin])
    }

    /// The user.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The highest role held, if any.
    pub fn role(&self) -> Option<Role> {
        self.role
    }

    /// Whether the caller is an admin.
    pub fn is_admin(&self) -> bool {
        self.role == Some(Role::Admin)
    }

    /// `Ok` when the caller holds `needed` or a higher role.
    ///
    /// # Errors
    /// [`AccessDenied`] naming the role needed and the one held.
    pub fn require(&self, needed: Role) -> Result<(), AccessDenied> {
        if self.role >= Some(needed) { Ok(()) } else { Err(AccessDenied { needed, held: self.role }) }
    }

    /// Whether the caller sees an object owned by `owner`: their own, or any for an admin.
    pub fn sees(&self, owner: &str) -> bool {
        self.is_admin() || self.user == owner
    }
}

/// A caller without the role an operation needs (HTTP 403).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("this needs the {needed} role; {}", match .held { Some(role) => format!("you have {role}"), None => "you have no role".to_owned() })]
pub struct AccessDenied {
    /// The role needed.
    pub needed: Role,
    /// The role held, if any.
    pub held: Option<Role>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_parsed_case_insensitively() {
        assert!(Role::Viewer < Role::Editor && Role::Editor < Role::Admin);
        assert_eq!("Admin".parse::<Role>(), Ok(Role::Admin));
        assert_eq!(" editor ".parse::<Role>(), Ok(Role::Editor));
        assert_eq!(
            "root".parse::<Role>().unwrap_err().to_string(),
            "`root` is not a role: use viewer, editor or admin"
        );
    }

    #[test]
    fn a_caller_holds_its_highest_role_and_everything_below_it() {
        let editor = Caller::new("ann@example.com", [Role::Viewer, Role::Editor]);
        assert_eq!(editor.role(), Some(Role::Editor));
        assert_eq!(editor.require(Role::Viewer), Ok(()));
        assert_eq!(editor.require(Role::Editor), Ok(()));
        let denied = editor.require(Role::Admin).unwrap_err();
        assert_eq!(denied.to_string(), "this needs the admin role; you have editor");
        let nobody = Caller::new("bob@example.com", []);
        assert_eq!(
            nobody.require(Role::Viewer).unwrap_err().to_string(),
            "this needs the viewer role; you have no role"
        );
    }

    #[test]
    fn a_caller_sees_its_own_objects_and_an_admin_sees_all() {
        let ann = Caller::new("ann@example.com", [Role::Editor]);
        assert!(ann.sees("ann@example.com"));
        assert!(!ann.sees("bob@example.com"));
        assert!(!ann.sees("ANN@example.com"), "users are compared exactly");
        let admin = Caller::new("root@example.com", [Role::Admin]);
        assert!(admin.sees("bob@example.com"));
        assert!(Caller::development().is_admin());
        assert_eq!(Caller::development().user(), "dev@localhost");
    }
}
