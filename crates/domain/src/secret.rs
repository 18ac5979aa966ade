//! Credentials: never printed, never serialised by accident.

pub use secrecy::SecretString as Secret;
use secrecy::{ExposeSecret, SecretString};

/// A display form of a secret that proves it is set without revealing it: `****` plus its last
/// two characters (none when the secret is shorter than eight characters).
pub fn mask_secret(secret: &SecretString) -> String {
    let value = secret.expose_secret();
    let chars: Vec<char> = value.chars().collect();
    if chars.len() < 8 {
        return "****".to_owned();
    }
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("****{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_all_but_the_last_two_characters_of_long_secrets() {
        assert_eq!(mask_secret(&SecretString::from("minioadmin-secret-3y")), "****3y");
        assert_eq!(mask_secret(&SecretString::from("short")), "****");
    }
}
