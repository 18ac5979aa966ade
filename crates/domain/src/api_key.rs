//! API keys: long-lived credentials for scripts and CI, acting as one user with one role.
//!
//! A key is `qb_` followed by 40 random alphanumeric characters (about 238 bits of entropy). Only
//! its SHA-256 digest is ever stored, next to a short display prefix (`qb_AbCd`) that lets an
//! operator tell keys apart without revealing them. A plain, unsalted SHA-256 is the right tool
//! here, unlike for passwords: a key is random and far too long to guess or to brute-force from its
//! digest, so a slow, salted hash would add cost to every request and no protection. It also lets a
//! presented key be looked up by its digest.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use rand::CryptoRng;
use rand::RngExt;
use rand::distr::Alphanumeric;
use secrecy::SecretString;
use sha2::{Digest, Sha256};

use crate::{ApiKeyId, Caller, Role};

/// The beginning of every API key, so that keys are recognisable (by people, by secret scanners,
/// and by the authenticator, which tells them from JWTs).
pub const API_KEY_PREFIX: &str = "qb_";
/// The random characters after [`API_KEY_PREFIX`].
const RANDOM_CHARS: usize = 40;
/// The random characters the display prefix shows.
const SHOWN_CHARS: usize = 4;

/// A stored API key: who it acts as and when it is valid, but never the key itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    /// Identifier.
    pub id: ApiKeyId,
    /// The user it acts as.
    pub user: String,
    /// The role it grants.
    pub role: Role,
    /// The start of the key (`qb_` and four characters), for display.
    pub prefix: String,
    /// The SHA-256 digest of the key, lowercase hex.
    pub hash: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    /// A new key for `user` with `role`, created at `now`: the stored record and the key itself,
    /// which is shown once and never again.
    pub fn generate(
        user: impl Into<String>,
        role: Role,
        now: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
        rng: &mut impl CryptoRng,
    ) -> (Self, SecretString) {
        let random: String = (0..RANDOM_CHARS).map(|_| char::from(rng.sample(Alphanumeric))).collect();
        let plaintext = format!("{API_KEY_PREFIX}{random}");
        let key = Self {
            id: ApiKeyId::new(),
            user: user.into(),
            role,
            prefix: plaintext.chars().take(API_KEY_PREFIX.len() + SHOWN_CHARS).collect(),
            hash: Self::digest(&plaintext),
            created_at: now,
            expires_at,
            revoked_at: None,
        };
        (key, SecretString::from(plaintext))
    }

    /// The SHA-256 digest of `plaintext` as lowercase hex: what is stored, and what a presented
    /// key is looked up by.
    pub fn digest(plaintext: &str) -> String {
        Sha256::digest(plaintext.as_bytes()).iter().fold(String::with_capacity(64), |mut hex, byte| {
            // Writing to a String cannot fail.
            let _ = write!(hex, "{byte:02x}");
            hex
        })
    }

    /// Whether `token` has the form of an API key (rather than, say, a JWT).
    pub fn looks_like(token: &str) -> bool {
        token.starts_with(API_KEY_PREFIX)
    }

    /// Whether the key works at `now`: not revoked, not expired.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|expires_at| now < expires_at)
    }

    /// The identity a request with this key acts as.
    pub fn caller(&self) -> Caller {
        Caller::new(self.user.clone(), [self.role])
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use secrecy::ExposeSecret;

    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    #[test]
    fn a_key_is_qb_and_40_alphanumerics_and_only_its_digest_is_kept() {
        let mut rng = StdRng::seed_from_u64(7);
        let (key, plaintext) = ApiKey::generate("ci@example.com", Role::Editor, now(), None, &mut rng);
        let plaintext = plaintext.expose_secret();
        assert!(ApiKey::looks_like(plaintext));
        assert_eq!(plaintext.len(), 3 + 40);
        assert!(plaintext[3..].chars().all(|c| c.is_ascii_alphanumeric()), "{plaintext}");
        assert_eq!(key.prefix, plaintext[..7]);
        assert_eq!(key.hash, ApiKey::digest(plaintext));
        assert_eq!(key.hash.len(), 64);
        assert!(!key.hash.contains(&plaintext[3..]));
        assert!(!format!("{key:?}").contains(plaintext), "the record does not hold the key");

        let (other, other_plaintext) = ApiKey::generate("ci@example.com", Role::Editor, now(), None, &mut rng);
        assert_ne!(other_plaintext.expose_secret(), plaintext);
        assert_ne!(other.hash, key.hash);
    }

    #[test]
    fn the_digest_is_sha256_in_lowercase_hex() {
        assert_eq!(ApiKey::digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(!ApiKey::looks_like("eyJhbGciOiJIUzI1NiJ9.e30.sig"));
    }

    #[test]
    fn a_key_is_active_until_it_expires_or_is_revoked() {
        let mut rng = StdRng::seed_from_u64(1);
        let expires_at = now() + Duration::days(30);
        let (mut key, _) = ApiKey::generate("ci", Role::Viewer, now(), Some(expires_at), &mut rng);
        assert!(key.is_active(now()));
        assert!(key.is_active(expires_at - Duration::seconds(1)));
        assert!(!key.is_active(expires_at), "a key is expired from its expiry on");
        key.expires_at = None;
        assert!(key.is_active(now() + Duration::days(10_000)));
        key.revoked_at = Some(now());
        assert!(!key.is_active(now()));
    }

    #[test]
    fn a_key_acts_as_its_user_with_its_role() {
        let (key, _) = ApiKey::generate("ci@example.com", Role::Editor, now(), None, &mut StdRng::seed_from_u64(3));
        let caller = key.caller();
        assert_eq!((caller.user(), caller.role()), ("ci@example.com", Some(Role::Editor)));
    }
}
