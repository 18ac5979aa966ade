//! Who may read which local files: one shared area for everybody, or an area per user.

use std::str::FromStr;

use crate::DomainError;

/// How local dataset paths are shared between users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LocalAccess {
    /// Every user reads anything under the data roots (a team's shared datasets).
    #[default]
    Shared,
    /// A dataset reads only under `<root>/<owner>/` of each data root: its owner's own area.
    PerUser,
}

impl LocalAccess {
    /// The directory, inside each data root, that a dataset of `owner` is confined to; `None`
    /// when every dataset reads the whole roots.
    pub fn area_of(self, owner: &str) -> Option<String> {
        match self {
            Self::Shared => None,
            Self::PerUser => Some(area_name(owner)),
        }
    }
}

impl FromStr for LocalAccess {
    type Err = DomainError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "shared" => Ok(Self::Shared),
            "per-user" => Ok(Self::PerUser),
            other => Err(DomainError::invalid("local_access", format!("`{other}` is not `shared` or `per-user`"))),
        }
    }
}

/// A user's name as one directory name: letters, digits and `.`, `_`, `@`, `+`, `-` kept, anything
/// else (a `/`, a space, a control character) replaced by `_`, and never `.`, `..` or hidden.
fn area_name(owner: &str) -> String {
    let kept: String = owner
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '+' | '-') { c } else { '_' })
        .collect();
    if kept.is_empty() || kept.starts_with('.') { format!("_{kept}") } else { kept }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_user_areas_are_single_safe_directory_names() {
        let area = |owner: &str| LocalAccess::PerUser.area_of(owner).unwrap();
        assert_eq!(area("alice@example.org"), "alice@example.org");
        assert_eq!(area("../root"), "_.._root");
        assert_eq!(area(".."), "_..");
        assert_eq!(area("a/b c"), "a_b_c");
        assert_eq!(area(""), "_");
        assert_eq!(LocalAccess::Shared.area_of("alice"), None);
    }
}
