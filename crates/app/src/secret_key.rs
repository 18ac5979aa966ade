//! The key that encrypts stored secrets: from `QBENCH_SECRET_KEY`, or generated once into the
//! data dir.

use std::fs;
use std::io::Write;
use std::path::Path;

use qbench_sql::SecretCipher;
use secrecy::{ExposeSecret, SecretString};

/// File name of the generated key inside the data dir.
pub const KEY_FILE: &str = "secret.key";

/// Why no key could be had.
#[derive(Debug, thiserror::Error)]
pub enum SecretKeyError {
    /// `QBENCH_SECRET_KEY` or the key file does not hold base64 of 32 bytes.
    #[error("{source_name}: {reason}")]
    Invalid {
        /// Where the key came from.
        source_name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The key file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The key file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The cipher for stored secrets: the configured key, else the data dir's key file, else a new
/// key written there (with a loud warning: losing that file loses every stored secret).
pub fn load_cipher(configured: Option<&SecretString>, data_dir: &Path) -> Result<SecretCipher, SecretKeyError> {
    load_key(configured, data_dir).map(SecretCipher::new)
}

/// The server's secret key, found (or made) as [`load_cipher`] says.
pub fn load_key(configured: Option<&SecretString>, data_dir: &Path) -> Result<[u8; 32], SecretKeyError> {
    if let Some(key) = configured {
        return SecretCipher::decode_key(key.expose_secret().trim()).map_err(|err| SecretKeyError::Invalid {
            source_name: "QBENCH_SECRET_KEY".to_owned(),
            reason: err.to_string(),
        });
    }
    let path = data_dir.join(KEY_FILE);
    let io = |source| SecretKeyError::Io { path: path.display().to_string(), source };
    if path.exists() {
        let encoded = fs::read_to_string(&path).map_err(io)?;
        return SecretCipher::decode_key(encoded.trim()).map_err(|err| SecretKeyError::Invalid {
            source_name: path.display().to_string(),
            reason: err.to_string(),
        });
    }
    fs::create_dir_all(data_dir).map_err(io)?;
    let key = SecretCipher::generate_key();
    let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, key);
    let mut file = create_private(&path).map_err(io)?;
    file.write_all(encoded.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    tracing::warn!(
        path = %path.display(),
        "QBENCH_SECRET_KEY is not set: generated a new secret key into the data dir. Stored secrets can only be \
         read with this key: back it up, or set QBENCH_SECRET_KEY (base64 of 32 bytes) in production"
    );
    Ok(key)
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> std::io::Result<fs::File> {
    fs::OpenOptions::new().write(true).create_new(true).open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_is_written_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        load_cipher(None, dir.path()).unwrap();
        let first = fs::read_to_string(dir.path().join(KEY_FILE)).unwrap();
        load_cipher(None, dir.path()).unwrap();
        assert_eq!(fs::read_to_string(dir.path().join(KEY_FILE)).unwrap(), first);
    }

    #[test]
    fn a_configured_key_of_the_wrong_length_is_refused_naming_the_variable() {
        let dir = tempfile::tempdir().unwrap();
        let err = load_cipher(Some(&SecretString::from("c2hvcnQ=")), dir.path()).unwrap_err();
        assert!(err.to_string().starts_with("QBENCH_SECRET_KEY"), "{err}");
        assert!(!dir.path().join(KEY_FILE).exists());
    }
}
