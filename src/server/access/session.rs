//! The dashboard's session cookie, set by the login page: `v1.<expires>.<access>.<mac>`,
//! where the mac is an HMAC-SHA256 keyed with the token of that access. It needs no
//! server-side store, holds across restarts and across processes that share the token,
//! ends at its expiry, and every session ends when its token is changed.

use super::tokens::{Access, Tokens};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The cookie's name.
pub const COOKIE: &str = "spool_session";
/// How long a login lasts.
pub const LIFETIME_SECS: i64 = 7 * 24 * 3600;

/// A signed session value for `access`, valid until `now + LIFETIME_SECS`.
pub fn issue(tokens: &Tokens, access: Access, now: i64) -> Option<String> {
    let claims = format!("v1.{}.{}", now + LIFETIME_SECS, access_name(access));
    let mac = mac(tokens, access, &claims)?.finalize().into_bytes();
    Some(format!("{claims}.{}", hex(&mac)))
}

/// The access a session value grants at `now`, if it is genuine and unexpired.
pub fn verify(tokens: &Tokens, value: &str, now: i64) -> Option<Access> {
    let (claims, signature) = value.rsplit_once('.')?;
    let mut parts = claims.split('.');
    let (Some("v1"), Some(expires), Some(access), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let access = match access {
        "full" => Access::Full,
        "read" => Access::ReadOnly,
        _ => return None,
    };
    let signature = unhex(signature)?;
    mac(tokens, access, claims)?.verify_slice(&signature).ok()?;
    let expires: i64 = expires.parse().ok()?;
    (now < expires).then_some(access)
}

/// The session value among the request's cookies.
pub fn from_headers(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// `Set-Cookie` for a new session: script cannot read it and other sites cannot send it.
pub fn set_cookie(value: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={LIFETIME_SECS}{secure}")
}

/// `Set-Cookie` that ends the session in this browser.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

fn access_name(access: Access) -> &'static str {
    match access {
        Access::Full => "full",
        Access::ReadOnly => "read",
    }
}

fn mac(tokens: &Tokens, access: Access, claims: &str) -> Option<Hmac<Sha256>> {
    let secret = tokens.secret(access)?;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(claims.as_bytes());
    Some(mac)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens::new(
            Some("full-access-token-0123".into()),
            Some("read-only-token-456789".into()),
        )
    }

    #[test]
    fn a_session_grants_the_access_it_was_issued_for_until_it_expires() {
        let tokens = tokens();
        let full = issue(&tokens, Access::Full, 1_000).unwrap();
        let read = issue(&tokens, Access::ReadOnly, 1_000).unwrap();
        assert_eq!(verify(&tokens, &full, 1_000), Some(Access::Full));
        assert_eq!(verify(&tokens, &read, 2_000), Some(Access::ReadOnly));
        assert_eq!(verify(&tokens, &full, 1_000 + LIFETIME_SECS), None);
    }

    #[test]
    fn altered_forged_or_foreign_sessions_grant_nothing() {
        let tokens = tokens();
        let read = issue(&tokens, Access::ReadOnly, 1_000).unwrap();
        let raised = read.replace(".read.", ".full.");
        let extended = read.replacen(&(1_000 + LIFETIME_SECS).to_string(), "99999999999", 1);
        let other = Tokens::new(Some("another-token-entirely".into()), None);
        let foreign = issue(&other, Access::Full, 1_000).unwrap();
        for value in [
            raised.as_str(),
            &extended,
            &foreign,
            "",
            "v1",
            "v1.9999999999.full.",
            "v1.9999999999.full.zz",
            "v1.9999999999.full.00.extra",
            "v1.9999999999.admin.00",
        ] {
            assert_eq!(verify(&tokens, value, 1_000), None, "{value:?}");
        }
    }

    #[test]
    fn a_changed_token_ends_its_sessions() {
        let before = issue(&tokens(), Access::Full, 1_000).unwrap();
        let rotated = Tokens::new(Some("the-new-full-token-abc".into()), None);
        assert_eq!(verify(&rotated, &before, 1_000), None);
    }

    #[test]
    fn the_cookie_is_found_among_others_and_is_http_only_and_strict() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            "theme=dark; spool_session=v1.2.full.ab; x=y"
                .parse()
                .unwrap(),
        );
        assert_eq!(from_headers(&headers), Some("v1.2.full.ab"));
        let cookie = set_cookie("v", false);
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        assert!(!cookie.contains("Secure"));
        assert!(set_cookie("v", true).ends_with("; Secure"));
    }
}
