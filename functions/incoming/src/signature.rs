//! Checking a sender's signature: the HMAC schemes third parties sign their webhooks with,
//! written once. An integration names its scheme (header, prefix, hash, encoding) and what is
//! signed; this module computes the MAC with the bot's webhook secret and compares in constant
//! time.

use base64::Engine;
use hmac::{Hmac, Mac};
use hookline_model::credentials::secrets_equal;

use crate::integration::{IntegrationError, Payload};

/// The hash under the HMAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hash {
    Sha1,
    Sha256,
}

/// How the MAC is written in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Hex,
    Base64,
}

/// A signature carried in one header as `<prefix><encoded MAC>`, like GitHub's
/// `X-Hub-Signature-256: sha256=<hex>`.
#[derive(Debug, Clone, Copy)]
pub struct Scheme {
    /// The header's name, as the sender spells it (matched case-insensitively).
    pub header: &'static str,
    /// What precedes the MAC (`sha256=`), or `""`.
    pub prefix: &'static str,
    pub hash: Hash,
    pub encoding: Encoding,
}

impl Scheme {
    /// Checks that the header signs the raw body.
    pub fn check_body(&self, secret: &str, payload: &Payload<'_>) -> Result<(), IntegrationError> {
        let name = self.header.to_ascii_lowercase();
        let Some(value) = payload.header(&name) else {
            return Err(IntegrationError::BadSignature(format!(
                "Missing the {} header: set the same secret on the sender's webhook",
                self.header
            )));
        };
        let Some(encoded) = value.trim().strip_prefix(self.prefix) else { return Err(failed()) };
        if matches(self.hash, self.encoding, secret, &[payload.raw], encoded) { Ok(()) } else { Err(failed()) }
    }
}

/// The error for a signature that does not match.
#[must_use]
pub fn failed() -> IntegrationError {
    IntegrationError::BadSignature("Webhook signature verification failed.".into())
}

/// The HMAC of the concatenation of `parts` under `secret`.
#[must_use]
pub fn mac(hash: Hash, secret: &str, parts: &[&[u8]]) -> Vec<u8> {
    fn run<M: Mac + hmac::digest::KeyInit>(secret: &str, parts: &[&[u8]]) -> Vec<u8> {
        let mut mac =
            <M as hmac::digest::KeyInit>::new_from_slice(secret.as_bytes()).expect("HMAC accepts a key of any length");
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().to_vec()
    }
    match hash {
        Hash::Sha1 => run::<Hmac<sha1::Sha1>>(secret, parts),
        Hash::Sha256 => run::<Hmac<sha2::Sha256>>(secret, parts),
    }
}

/// Whether `given` (hex or base64, as `encoding` says) is the HMAC of `parts` under `secret`.
#[must_use]
pub fn matches(hash: Hash, encoding: Encoding, secret: &str, parts: &[&[u8]], given: &str) -> bool {
    let decoded = match encoding {
        Encoding::Hex => hex::decode(given.trim()).ok(),
        Encoding::Base64 => base64::engine::general_purpose::STANDARD.decode(given.trim()).ok(),
    };
    decoded.is_some_and(|given| secrets_equal(&given, &mac(hash, secret, parts)))
}

/// Checks a shared token the sender repeats in a header (GitLab's `X-Gitlab-Token`).
pub fn check_token(header: &'static str, secret: &str, payload: &Payload<'_>) -> Result<(), IntegrationError> {
    match payload.header(&header.to_ascii_lowercase()) {
        Some(token) if secrets_equal(token.trim().as_bytes(), secret.as_bytes()) => Ok(()),
        Some(_) => Err(IntegrationError::BadSignature(format!("Invalid {header}"))),
        None => Err(IntegrationError::BadSignature(format!("Missing the {header} header"))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn payload<'a>(headers: &'a [(String, String)], raw: &'a [u8], body: &'a Value) -> Payload<'a> {
        Payload { event_type: None, headers, body, raw, params: &[] }
    }

    // RFC 2202 and RFC 4231 test vectors.
    #[test]
    fn macs_are_the_rfc_vectors() {
        assert_eq!(
            hex::encode(mac(Hash::Sha1, "key", &[b"The quick brown fox ", b"jumps over the lazy dog"])),
            "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9"
        );
        assert_eq!(
            hex::encode(mac(Hash::Sha256, "Jefe", &[b"what do ya want for nothing?"])),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_header_signature_is_checked_in_either_encoding() {
        let body = Value::Null;
        let raw = b"{\"a\":1}";
        let hex_sig = format!("sha256={}", hex::encode(mac(Hash::Sha256, "s3cret", &[raw])));
        let headers = vec![("x-sig".to_string(), hex_sig)];
        let scheme = Scheme { header: "X-Sig", prefix: "sha256=", hash: Hash::Sha256, encoding: Encoding::Hex };
        assert!(scheme.check_body("s3cret", &payload(&headers, raw, &body)).is_ok());
        assert!(scheme.check_body("other", &payload(&headers, raw, &body)).is_err());
        assert!(scheme.check_body("s3cret", &payload(&headers, b"{\"a\":2}", &body)).is_err());
        assert!(scheme.check_body("s3cret", &payload(&[], raw, &body)).is_err());

        let b64 = base64::engine::general_purpose::STANDARD.encode(mac(Hash::Sha1, "s3cret", &[raw]));
        let headers = vec![("x-sig".to_string(), b64)];
        let scheme = Scheme { header: "X-Sig", prefix: "", hash: Hash::Sha1, encoding: Encoding::Base64 };
        assert!(scheme.check_body("s3cret", &payload(&headers, raw, &body)).is_ok());
        let garbage = vec![("x-sig".to_string(), "%%%".to_string())];
        assert!(scheme.check_body("s3cret", &payload(&garbage, raw, &body)).is_err());
    }

    #[test]
    fn tokens_compare_exactly() {
        let body = Value::Null;
        let headers = vec![("x-token".to_string(), "abc".to_string())];
        assert!(check_token("X-Token", "abc", &payload(&headers, b"", &body)).is_ok());
        assert!(check_token("X-Token", "abd", &payload(&headers, b"", &body)).is_err());
        assert!(check_token("X-Token", "abc", &payload(&[], b"", &body)).is_err());
    }
}
