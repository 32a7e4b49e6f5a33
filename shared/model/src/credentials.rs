//! API keys, service tokens and signing secrets: how they are made, stored and compared.
//!
//! An API key is 40 random alphanumeric characters (Zulip's keys are 32). Only its SHA-256 is
//! stored, so a leaked table does not leak keys, and authenticating is one strongly consistent
//! read of the hash's item.

use base64::Engine as _;
use rand::RngCore as _;
use rand::distr::{Alphanumeric, SampleString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Length of generated API keys.
pub const API_KEY_LEN: usize = 40;

/// The SHA-256 of an API key, hex-encoded.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiKeyHash(String);

impl ApiKeyHash {
    #[must_use]
    pub fn of(api_key: &str) -> Self {
        Self(hex::encode(Sha256::digest(api_key.as_bytes())))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Rebuilds a hash read back from storage.
    #[must_use]
    pub fn from_stored(hex: String) -> Self {
        Self(hex)
    }
}

impl std::fmt::Debug for ApiKeyHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Enough to tell two apart in a log line, not enough to search for.
        write!(f, "ApiKeyHash({}…)", &self.0[..8.min(self.0.len())])
    }
}

/// A fresh random API key.
#[must_use]
pub fn generate_api_key() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), API_KEY_LEN)
}

/// A fresh token for an outgoing webhook service (sent in every payload).
#[must_use]
pub fn generate_service_token() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 32)
}

/// A fresh Standard Webhooks secret: `whsec_` and 32 random bytes in base64.
#[must_use]
pub fn generate_signing_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Compares two secrets without leaking, through timing, how much of them matched.
#[must_use]
pub fn secrets_equal(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_are_long_random_and_hash_stably() {
        let (a, b) = (generate_api_key(), generate_api_key());
        assert_eq!(a.len(), API_KEY_LEN);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
        assert_eq!(ApiKeyHash::of(&a), ApiKeyHash::of(&a));
        assert_ne!(ApiKeyHash::of(&a), ApiKeyHash::of(&b));
        assert_eq!(ApiKeyHash::of(&a).as_str().len(), 64);
    }

    #[test]
    fn debug_output_does_not_show_the_whole_hash() {
        let hash = ApiKeyHash::of("secret");
        assert!(!format!("{hash:?}").contains(hash.as_str()));
    }

    #[test]
    fn signing_secrets_have_the_standard_webhooks_shape() {
        let secret = generate_signing_secret();
        let raw = secret.strip_prefix("whsec_").expect("prefix");
        let bytes = base64::engine::general_purpose::STANDARD.decode(raw).expect("base64");
        assert_eq!(bytes.len(), 32);
    }

    #[test]
    fn secret_comparison_needs_every_byte() {
        assert!(secrets_equal(b"abc", b"abc"));
        assert!(!secrets_equal(b"abc", b"abd"));
        assert!(!secrets_equal(b"abc", b"abcd"));
    }
}
