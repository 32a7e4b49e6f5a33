//! Standard Webhooks signatures: the `webhook-signature` header value for one attempt, signed
//! with every active secret so receivers keep verifying through a rotation.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The prefix Standard Webhooks writes secrets with.
const SECRET_PREFIX: &str = "whsec_";

/// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>` for each secret, space-separated
/// (during a rotation both). Secrets are `whsec_<base64>`; the key is the base64-decoded part (a
/// secret without the prefix is decoded as base64 too). A secret that does not decode, or decodes
/// to nothing, is skipped: the header carries the others.
#[must_use]
pub fn signature_header(secrets: &[&str], webhook_id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .filter_map(|secret| secret_key(secret))
        .map(|key| {
            let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes keys of any length");
            mac.update(webhook_id.as_bytes());
            mac.update(b".");
            mac.update(timestamp.to_string().as_bytes());
            mac.update(b".");
            mac.update(body);
            format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The HMAC key a secret stands for, if it is valid base64 with at least one byte.
fn secret_key(secret: &str) -> Option<Vec<u8>> {
    let encoded = secret.trim();
    let encoded = encoded.strip_prefix(SECRET_PREFIX).unwrap_or(encoded);
    STANDARD.decode(encoded).ok().filter(|key| !key.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTOR_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const VECTOR_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const VECTOR_TIMESTAMP: i64 = 1_614_265_330;
    const VECTOR_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const VECTOR_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signature_matches_the_standard_webhooks_test_vector() {
        assert_eq!(signature_header(&[VECTOR_SECRET], VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY), VECTOR_SIGNATURE);
    }

    #[test]
    fn a_secret_without_its_prefix_signs_the_same() {
        let bare = VECTOR_SECRET.strip_prefix("whsec_").unwrap();
        assert_eq!(signature_header(&[bare], VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY), VECTOR_SIGNATURE);
    }

    #[test]
    fn during_a_rotation_both_secrets_sign_in_order() {
        let other = "whsec_c2VjcmV0LW9mLWEtcm90YXRlZC1lbmRwb2ludA==";
        let header = signature_header(&[VECTOR_SECRET, other], VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY);
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], VECTOR_SIGNATURE);
        assert!(parts[1].starts_with("v1,"));
        assert_ne!(parts[1], VECTOR_SIGNATURE);
    }

    #[test]
    fn a_secret_that_does_not_decode_is_skipped() {
        let header =
            signature_header(&["whsec_not base64!", VECTOR_SECRET, "whsec_"], VECTOR_ID, 1_614_265_330, VECTOR_BODY);
        assert_eq!(header, VECTOR_SIGNATURE);
        assert_eq!(signature_header(&["%%%"], VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY), "");
    }

    #[test]
    fn the_signature_covers_id_timestamp_and_body() {
        let sign = |id: &str, ts: i64, body: &[u8]| signature_header(&[VECTOR_SECRET], id, ts, body);
        assert_ne!(sign("msg_other", VECTOR_TIMESTAMP, VECTOR_BODY), VECTOR_SIGNATURE);
        assert_ne!(sign(VECTOR_ID, VECTOR_TIMESTAMP + 1, VECTOR_BODY), VECTOR_SIGNATURE);
        assert_ne!(sign(VECTOR_ID, VECTOR_TIMESTAMP, br#"{"test": 2432232315}"#), VECTOR_SIGNATURE);
    }
}
