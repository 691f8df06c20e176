//! Secrets (passwords, tokens, application credential secrets) in a type that cannot be
//! printed by accident: `Debug` redacts, there is no `Display`, and the value is reached only
//! through `expose`, at the one place it is sent over the wire.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself: only for request bodies and the `X-Auth-Token` header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// `text` with every occurrence of each secret replaced by `<redacted>`: for what a server
/// answered, which may echo what was sent to it (a gateway's error page quoting the request,
/// a message quoting a field's value).
pub fn redact(text: String, secrets: &[&Secret]) -> String {
    secrets
        .iter()
        .map(|s| s.expose())
        .filter(|s| !s.is_empty())
        .fold(text, |text, secret| {
            if text.contains(secret) {
                text.replace(secret, "<redacted>")
            } else {
                text
            }
        })
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::{redact, Secret};

    #[test]
    fn redact_replaces_every_occurrence() {
        let (a, b, empty) = (Secret::new("hunter2"), Secret::new("s3"), Secret::new(""));
        let text = "pw hunter2, again hunter2; s3 too".to_owned();
        assert_eq!(
            redact(text, &[&a, &b, &empty]),
            "pw <redacted>, again <redacted>; <redacted> too"
        );
    }

    #[test]
    fn debug_redacts() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(<redacted>)");
        assert_eq!(format!("{:?}", Some(&s)), "Some(Secret(<redacted>))");
        assert_eq!(s.expose(), "hunter2");
    }
}
