//! The configured access tokens, and recognising a presented one in constant time.

use sha2::{Digest, Sha256};
use std::fmt;

/// What a request may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Everything.
    Full,
    /// Look, not act: reads only.
    ReadOnly,
}

/// A secret kept with its SHA-256 digest; never printed.
#[derive(Clone)]
pub(super) struct Secret {
    text: String,
    digest: [u8; 32],
}

impl Secret {
    fn new(text: String) -> Secret {
        let digest = sha256(text.as_bytes());
        Secret { text, digest }
    }

    pub(super) fn as_bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    /// Compares digests, so the time taken says nothing about how much of `presented`
    /// matched, nor about the secret's length.
    fn matches(&self, presented: &str) -> bool {
        constant_time_eq(&self.digest, &sha256(presented.as_bytes()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// The tokens `spool serve` was started with; with none, access is open.
#[derive(Clone, Debug, Default)]
pub struct Tokens {
    full: Option<Secret>,
    read_only: Option<Secret>,
}

impl Tokens {
    pub fn new(full: Option<String>, read_only: Option<String>) -> Tokens {
        Tokens {
            full: full.map(Secret::new),
            read_only: read_only.map(Secret::new),
        }
    }

    /// True when requests must prove who they are.
    pub fn required(&self) -> bool {
        self.full.is_some() || self.read_only.is_some()
    }

    /// The access `presented` grants, if it is one of the tokens. Both are always
    /// compared, so the time taken does not tell which one nearly matched.
    pub fn recognise(&self, presented: &str) -> Option<Access> {
        let full = self.full.as_ref().is_some_and(|s| s.matches(presented));
        let read_only = self
            .read_only
            .as_ref()
            .is_some_and(|s| s.matches(presented));
        if full {
            Some(Access::Full)
        } else if read_only {
            Some(Access::ReadOnly)
        } else {
            None
        }
    }

    /// The secret that signs sessions of `access`.
    pub(super) fn secret(&self, access: Access) -> Option<&Secret> {
        match access {
            Access::Full => self.full.as_ref(),
            Access::ReadOnly => self.read_only.as_ref(),
        }
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0; 32];
    out.copy_from_slice(&Sha256::digest(bytes));
    out
}

/// Equal when every byte is, looking at all of them whatever the first difference.
fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = "full-access-token-0123";
    const READ: &str = "read-only-token-456789";

    #[test]
    fn each_token_grants_its_own_access_and_nothing_else_grants_any() {
        let tokens = Tokens::new(Some(FULL.into()), Some(READ.into()));
        assert!(tokens.required());
        assert_eq!(tokens.recognise(FULL), Some(Access::Full));
        assert_eq!(tokens.recognise(READ), Some(Access::ReadOnly));
        for wrong in [
            "",
            "full-access-token-012",
            "full-access-token-01234",
            "FULL-ACCESS-TOKEN-0123",
        ] {
            assert_eq!(tokens.recognise(wrong), None, "{wrong:?}");
        }
    }

    #[test]
    fn without_tokens_nothing_is_required_and_nothing_is_recognised() {
        let tokens = Tokens::default();
        assert!(!tokens.required());
        assert_eq!(tokens.recognise(""), None);
    }

    #[test]
    fn a_secret_never_shows_in_debug_output() {
        let tokens = Tokens::new(Some(FULL.into()), None);
        assert!(!format!("{tokens:?}").contains(FULL));
    }
}
