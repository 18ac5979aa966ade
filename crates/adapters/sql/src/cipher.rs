//! Encryption of secrets at rest.
//!
//! Secrets are sealed with XChaCha20-Poly1305. Its 24-byte nonce is large enough to draw at random
//! for every value without any risk of reuse, so no nonce state has to be kept. A stored value is
//! `version (1 byte) || nonce (24 bytes) || ciphertext and tag`, and it is bound to the row and
//! column it belongs to through the AEAD associated data, so a ciphertext copied into another row
//! or column no longer decrypts.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretString};

/// The format of the values this version writes; a later key rotation can add a new one.
const FORMAT_VERSION: u8 = 1;
/// Length of an XChaCha20 nonce.
const NONCE_LEN: usize = 24;

/// Why a key could not be used or a secret could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    /// The key given is not base64 of exactly [`SecretCipher::KEY_LEN`] bytes.
    #[error("invalid secret key: {0}")]
    InvalidKey(String),
    /// The value does not open with this key: the key differs from the one that sealed it, or the
    /// value is damaged or was moved from another row.
    #[error("the secret key does not match the key this secret was encrypted with (or the stored value is damaged)")]
    KeyMismatch,
    /// The value was not written by a known version of this format.
    #[error("the stored secret is not in a known format")]
    UnknownFormat,
    /// Encryption failed (only possible for absurdly large secrets).
    #[error("the secret could not be encrypted")]
    Encrypt,
}

/// Seals and opens secrets with one 32-byte key; cheap to clone.
///
/// The key never appears in `Debug` output, and neither do the secrets it handles: they stay in
/// [`SecretString`] on both sides.
#[derive(Clone)]
pub struct SecretCipher {
    aead: Arc<XChaCha20Poly1305>,
}

impl SecretCipher {
    /// The key length in bytes.
    pub const KEY_LEN: usize = 32;

    /// A cipher using `key`.
    pub fn new(key: [u8; 32]) -> Self {
        Self { aead: Arc::new(XChaCha20Poly1305::new(&key.into())) }
    }

    /// A cipher using the key written in standard base64 (as `generate_key` output is usually
    /// stored in configuration).
    ///
    /// # Errors
    /// `InvalidKey` when the text is not base64 or does not decode to exactly 32 bytes; the
    /// message never repeats the key.
    pub fn from_base64(key: &str) -> Result<Self, CipherError> {
        Self::decode_key(key).map(Self::new)
    }

    /// The 32 bytes of a base64 key.
    ///
    /// # Errors
    /// `InvalidKey` when `key` is not base64 of exactly 32 bytes.
    pub fn decode_key(key: &str) -> Result<[u8; 32], CipherError> {
        let bytes = STANDARD
            .decode(key.trim())
            .map_err(|error| CipherError::InvalidKey(format!("not valid base64 ({error})")))?;
        let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            CipherError::InvalidKey(format!(
                "it decodes to {} bytes but must be exactly {} bytes",
                bytes.len(),
                Self::KEY_LEN
            ))
        })?;
        Ok(key)
    }

    /// A fresh random key from the operating system's generator.
    pub fn generate_key() -> [u8; 32] {
        XChaCha20Poly1305::generate_key(&mut OsRng).into()
    }

    /// Seals `secret` for the place named by `context` (for example `connections.api_key:<id>`).
    ///
    /// # Errors
    /// `Encrypt` only when the secret is too large for the cipher.
    pub fn encrypt(&self, secret: &SecretString, context: &str) -> Result<Vec<u8>, CipherError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let payload = Payload { msg: secret.expose_secret().as_bytes(), aad: context.as_bytes() };
        let sealed = self.aead.encrypt(&nonce, payload).map_err(|_| CipherError::Encrypt)?;
        let mut stored = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        stored.push(FORMAT_VERSION);
        stored.extend_from_slice(&nonce);
        stored.extend_from_slice(&sealed);
        Ok(stored)
    }

    /// Opens a value sealed by [`SecretCipher::encrypt`] for the same `context`.
    ///
    /// # Errors
    /// `KeyMismatch` when the key or the context differ from the ones used to seal it, or the
    /// value was altered; `UnknownFormat` when it was not written by this format.
    pub fn decrypt(&self, stored: &[u8], context: &str) -> Result<SecretString, CipherError> {
        let (&version, rest) = stored.split_first().ok_or(CipherError::UnknownFormat)?;
        if version != FORMAT_VERSION || rest.len() < NONCE_LEN {
            return Err(CipherError::UnknownFormat);
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let payload = Payload { msg: sealed, aad: context.as_bytes() };
        let plain = self.aead.decrypt(XNonce::from_slice(nonce), payload).map_err(|_| CipherError::KeyMismatch)?;
        // A value that authenticates was written by us from a `str`, so it is UTF-8; anything
        // else means the data is not what it claims to be.
        let text = String::from_utf8(plain).map_err(|_| CipherError::KeyMismatch)?;
        Ok(SecretString::from(text))
    }
}

impl fmt::Debug for SecretCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretCipher").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn secret(value: &str) -> SecretString {
        SecretString::from(value.to_owned())
    }

    #[test]
    fn round_trips_and_draws_a_fresh_nonce_per_value() {
        let cipher = SecretCipher::new(SecretCipher::generate_key());
        let first = cipher.encrypt(&secret("s3cr3t"), "t.c:1").unwrap();
        let second = cipher.encrypt(&secret("s3cr3t"), "t.c:1").unwrap();
        assert_ne!(first, second);
        assert_eq!(cipher.decrypt(&first, "t.c:1").unwrap().expose_secret(), "s3cr3t");
    }

    #[test]
    fn a_value_moved_to_another_row_or_opened_with_another_key_does_not_open() {
        let cipher = SecretCipher::new([7; 32]);
        let sealed = cipher.encrypt(&secret("s3cr3t"), "t.c:1").unwrap();
        assert_eq!(cipher.decrypt(&sealed, "t.c:2").unwrap_err(), CipherError::KeyMismatch);
        let other = SecretCipher::new([8; 32]);
        assert_eq!(other.decrypt(&sealed, "t.c:1").unwrap_err(), CipherError::KeyMismatch);
        assert_eq!(cipher.decrypt(&[], "t.c:1").unwrap_err(), CipherError::UnknownFormat);
    }

    #[test]
    fn base64_keys_must_decode_to_exactly_32_bytes() {
        assert!(SecretCipher::from_base64(&STANDARD.encode([1u8; 32])).is_ok());
        let err = SecretCipher::from_base64(&STANDARD.encode([1u8; 16])).unwrap_err();
        assert!(err.to_string().contains("16 bytes but must be exactly 32 bytes"), "{err}");
        let err = SecretCipher::from_base64("not base64!").unwrap_err();
        assert!(err.to_string().contains("not valid base64"), "{err}");
    }

    #[test]
    fn debug_output_shows_no_key_material() {
        assert_eq!(format!("{:?}", SecretCipher::new([9; 32])), "SecretCipher { .. }");
    }
}
