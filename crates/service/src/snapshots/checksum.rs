//! The SHA-256 and size of an archive, tallied chunk by chunk as it streams past.

use sha2::{Digest, Sha256};

/// What has streamed past so far.
#[derive(Default)]
pub(crate) struct Tally {
    hasher: Sha256,
    bytes: u64,
}

impl Tally {
    /// Counts `chunk`.
    pub(crate) fn add(&mut self, chunk: &[u8]) {
        self.hasher.update(chunk);
        self.bytes += chunk.len() as u64;
    }

    /// The bytes counted.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The SHA-256 of everything counted, lower-case hex.
    pub(crate) fn sha256(self) -> String {
        self.hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tally_of_chunks_is_the_sha256_of_their_concatenation() {
        let mut tally = Tally::default();
        tally.add(b"ab");
        tally.add(b"");
        tally.add(b"c");
        assert_eq!(tally.bytes(), 3);
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(tally.sha256(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
