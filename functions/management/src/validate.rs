//! Validation of what users type: emails, names, URLs, short names.

use hookline_edge::ApiError;

pub const MAX_NAME: usize = 100;
pub const MAX_URL: usize = 2048;
pub const MAX_STREAM_NAME: usize = 60;

/// A full name or organization name: 1–100 characters, no control characters.
pub fn name(field: &str, value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    let length = value.chars().count();
    if length == 0 {
        return Err(ApiError::bad_request(format!("{field} can't be empty")));
    }
    if length > MAX_NAME {
        return Err(ApiError::bad_request(format!("{field} is too long (at most {MAX_NAME} characters)")));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::bad_request(format!("{field} contains invalid characters")));
    }
    Ok(value.to_owned())
}

/// An email address: one `@`, a local part, and a domain with a dot.
pub fn email(value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    let invalid = || ApiError::bad_request(format!("Invalid email '{value}'"));
    let (local, domain) = value.split_once('@').ok_or_else(invalid)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if local.is_empty()
        || value.len() > 254
        || !domain_ok
        || local.chars().any(|c| c.is_whitespace() || c.is_control() || c == '@')
    {
        return Err(invalid());
    }
    Ok(value.to_owned())
}

/// A bot endpoint: `http` or `https`, with a host, at most 2,048 characters.
pub fn endpoint_url(field: &str, value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.len() > MAX_URL {
        return Err(ApiError::bad_request(format!("{field} is too long (at most {MAX_URL} characters)")));
    }
    let parsed = url::Url::parse(value).map_err(|_| ApiError::bad_request(format!("{field} is not a valid URL")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(ApiError::bad_request(format!("{field} must be an http or https URL")));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(ApiError::bad_request(format!("{field} has no host")));
    }
    Ok(value.to_owned())
}

/// A bot's short name (the part before `-bot@`): letters, digits, `-` and `_`, 1–40 long.
pub fn short_name(value: &str) -> Result<String, ApiError> {
    let value = value.trim().to_lowercase();
    if value.is_empty() || value.len() > 40 || !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ApiError::bad_request("Bad name or username"));
    }
    Ok(value)
}

/// A realm's string id: lowercase letters, digits and `-`, 1–40 long, not starting with `-`.
pub fn string_id(value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty()
        || value.len() > 40
        || value.starts_with('-')
        || !value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(ApiError::bad_request("Invalid string_id: use 1-40 lowercase letters, digits and '-'"));
    }
    Ok(value.to_owned())
}

/// A stream name: 1–60 characters, no control characters.
pub fn stream_name(value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    let length = value.chars().count();
    if length == 0 {
        return Err(ApiError::bad_request("Channel name can't be empty."));
    }
    if length > MAX_STREAM_NAME {
        return Err(ApiError::bad_request(format!("Channel name too long (limit: {MAX_STREAM_NAME} characters).")));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::bad_request("Invalid character in channel name"));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(name("Name", "  Ada  ").unwrap(), "Ada");
        assert!(name("Name", " ").is_err());
        assert!(name("Name", &"x".repeat(101)).is_err());
        assert!(name("Name", &"é".repeat(100)).is_ok(), "characters, not bytes");
        assert!(name("Name", "a\u{0}b").is_err());
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(email("ada@example.com").is_ok());
        for bad in ["ada", "@example.com", "ada@", "ada@localhost", "a da@x.com", "ada@x..com.", "a@b@c.com"] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn endpoints_are_http_urls_with_a_host() {
        assert!(endpoint_url("payload_url", "https://bots.example.com/hook?x=1").is_ok());
        for bad in ["ftp://x.com/", "javascript:alert(1)", "not a url", "http://"] {
            assert!(endpoint_url("payload_url", bad).is_err(), "{bad}");
        }
        let long = format!("https://x.com/{}", "a".repeat(MAX_URL));
        assert!(endpoint_url("payload_url", &long).unwrap_err().msg.contains("too long"));
    }

    #[test]
    fn short_names_and_string_ids_are_restricted() {
        assert_eq!(short_name("Echo_1").unwrap(), "echo_1");
        assert!(short_name("echo bot").is_err());
        assert!(string_id("acme-2").is_ok());
        assert!(string_id("Acme").is_err());
        assert!(string_id("-acme").is_err());
        assert!(stream_name(&"s".repeat(61)).is_err());
    }
}
