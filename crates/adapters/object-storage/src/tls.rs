//! The one rustls crypto provider of the process.

/// Installs rustls' aws-lc-rs provider as the process-wide default, once; later calls, and calls
/// after another component installed a provider, change nothing.
///
/// `object_store` (through reqwest) is built with aws-lc-rs, and no crate of the workspace enables
/// rustls' `ring` feature, so this is the only provider compiled in. rustls panics where it needs a
/// default provider and finds two compiled in with none installed; installing one at start-up
/// keeps that true even if a future dependency brings `ring` along. The application calls this
/// first thing; [`ParquetStorage::new`](crate::ParquetStorage::new) calls it too.
pub fn install_crypto_provider() {
    // An error only says that a provider is installed already, which is the state we want.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installing_twice_leaves_one_default_provider() {
        install_crypto_provider();
        install_crypto_provider();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }
}
