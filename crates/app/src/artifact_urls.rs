//! Signed URLs to a run's artifacts on a local results directory, served by qbench itself: like a
//! presigned S3 URL, the URL is the credential. The signature is an HMAC-SHA256 over the run,
//! the file and the expiry, with a key derived from the server's secret key; it is checked in
//! constant time, and an expired or altered URL is refused.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, KeyInit, Mac};
use qbench_storage::Artifact;
use sha2::Sha256;

/// What the derived key is for: another use of the secret key never yields the same key.
const PURPOSE: &[u8] = b"qbench artifact URLs v1";

/// Why a signed URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefused {
    /// Its expiry has passed.
    #[error("the link expired at {0}")]
    Expired(DateTime<Utc>),
    /// The signature does not match the run, file and expiry.
    #[error("the link's signature does not match it")]
    BadSignature,
}

/// Signs and checks artifact URLs.
#[derive(Clone)]
pub struct ArtifactUrls {
    key: [u8; 32],
    /// How long a URL is valid.
    pub lifetime: Duration,
}

impl std::fmt::Debug for ArtifactUrls {
    /// Leaves the key out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArtifactUrls").field("lifetime", &self.lifetime).finish_non_exhaustive()
    }
}

impl ArtifactUrls {
    /// URLs signed with a key derived from `secret_key`, valid for `lifetime`.
    pub fn new(secret_key: &[u8; 32], lifetime: Duration) -> Self {
        let key = mac(secret_key).chain_update(PURPOSE).finalize().into_bytes();
        let mut derived = [0_u8; 32];
        derived.copy_from_slice(&key);
        Self { key: derived, lifetime }
    }

    /// The path and query of `artifact` of run `run_id`, valid until `expires` (seconds since the
    /// epoch): `/api/v1/artifacts/{run_id}/{file}?expires=…&signature=…`.
    pub fn path(&self, run_id: &str, artifact: Artifact, expires: i64) -> String {
        let signature = hex(&self.tag(run_id, artifact, expires));
        format!("/api/v1/artifacts/{run_id}/{}?expires={expires}&signature={signature}", artifact.file_name())
    }

    /// Checks a URL's `signature` (hex) for `artifact` of `run_id` until `expires`, at `now`.
    ///
    /// # Errors
    /// [`UrlRefused`]: the signature does not match (checked first, so an altered expiry is never
    /// reported as anything else), or the expiry has passed.
    pub fn verify(
        &self,
        run_id: &str,
        artifact: Artifact,
        expires: i64,
        signature: &str,
        now: DateTime<Utc>,
    ) -> Result<(), UrlRefused> {
        let given = unhex(signature).ok_or(UrlRefused::BadSignature)?;
        mac(&self.key)
            .chain_update(message(run_id, artifact, expires))
            .verify_slice(&given)
            .map_err(|_| UrlRefused::BadSignature)?;
        let expiry = Utc.timestamp_opt(expires, 0).single().ok_or(UrlRefused::BadSignature)?;
        if now >= expiry {
            return Err(UrlRefused::Expired(expiry));
        }
        Ok(())
    }

    fn tag(&self, run_id: &str, artifact: Artifact, expires: i64) -> Vec<u8> {
        mac(&self.key).chain_update(message(run_id, artifact, expires)).finalize().into_bytes().to_vec()
    }
}

/// HMAC-SHA256 keyed with `key`, zero-padded to the block size as RFC 2104 pads a short key (so
/// the same MAC as any HMAC of that key, with no fallible length check).
fn mac(key: &[u8; 32]) -> Hmac<Sha256> {
    let mut block = [0_u8; 64];
    block[..32].copy_from_slice(key);
    <Hmac<Sha256> as KeyInit>::new(&block.into())
}

/// What is signed: every part of the URL that selects or limits what it serves.
fn message(run_id: &str, artifact: Artifact, expires: i64) -> String {
    format!("{run_id}\n{}\n{expires}", artifact.file_name())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const RUN: &str = "0190b3c2-0000-7000-8000-000000000000";

    fn urls() -> ArtifactUrls {
        ArtifactUrls::new(&[7; 32], Duration::from_secs(3600))
    }

    fn signature(path: &str) -> String {
        path.rsplit("signature=").next().unwrap().to_owned()
    }

    #[test]
    fn a_signed_url_verifies_until_it_expires() {
        let urls = urls();
        let path = urls.path(RUN, Artifact::ResultJson, 1_000);
        assert!(path.starts_with(&format!("/api/v1/artifacts/{RUN}/result.json?expires=1000&signature=")));
        let before = Utc.timestamp_opt(999, 0).unwrap();
        assert_eq!(urls.verify(RUN, Artifact::ResultJson, 1_000, &signature(&path), before), Ok(()));
        let at = Utc.timestamp_opt(1_000, 0).unwrap();
        assert!(matches!(
            urls.verify(RUN, Artifact::ResultJson, 1_000, &signature(&path), at),
            Err(UrlRefused::Expired(_))
        ));
    }

    #[test]
    fn an_altered_run_file_expiry_or_signature_is_refused() {
        let urls = urls();
        let signed = signature(&urls.path(RUN, Artifact::ResultJson, 1_000));
        let now = Utc.timestamp_opt(0, 0).unwrap();
        let other_run = "0190b3c2-0000-7000-8000-000000000001";
        for (run, artifact, expires, signature) in [
            (other_run, Artifact::ResultJson, 1_000, signed.clone()),
            (RUN, Artifact::QueriesParquet, 1_000, signed.clone()),
            (RUN, Artifact::ResultJson, 9_999_999, signed.clone()),
            (RUN, Artifact::ResultJson, 1_000, format!("{}00", &signed[..signed.len() - 2])),
            (RUN, Artifact::ResultJson, 1_000, "zz".to_owned()),
            (RUN, Artifact::ResultJson, 1_000, String::new()),
        ] {
            assert_eq!(urls.verify(run, artifact, expires, &signature, now), Err(UrlRefused::BadSignature));
        }
    }

    #[test]
    fn the_padded_key_gives_the_hmac_of_the_key_itself() {
        let key = [7_u8; 32];
        let expected = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).unwrap().chain_update(b"m").finalize();
        assert_eq!(mac(&key).chain_update(b"m").finalize().into_bytes(), expected.into_bytes());
    }

    #[test]
    fn another_secret_key_signs_differently() {
        let other = ArtifactUrls::new(&[8; 32], Duration::from_secs(3600));
        let path = other.path(RUN, Artifact::ResultJson, 1_000);
        let now = Utc.timestamp_opt(0, 0).unwrap();
        assert_eq!(
            urls().verify(RUN, Artifact::ResultJson, 1_000, &signature(&path), now),
            Err(UrlRefused::BadSignature)
        );
    }
}
