//! What every response and every browser-sent change goes through, token or not: the
//! security headers (a Content-Security-Policy that lets only our own scripts and the
//! page's nonced inline scripts run, no sniffing, no framing), and the refusal of
//! state-changing requests another site's page made the browser send (CSRF).

use crate::error::{AppError, ErrorCode};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The policy for a page whose inline scripts carry `nonce`; without a nonce (JSON,
/// files, the login page) no inline script may run at all.
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let scripts = match nonce {
        // WebAssembly compilation needs 'wasm-unsafe-eval'; it allows no JS eval.
        Some(nonce) => format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
        None => "script-src 'self'".to_string(),
    };
    let reload = dev_reload_sources();
    format!(
        "default-src 'self'; {scripts}; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'{reload}; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Under `cargo leptos watch`, the page reloads itself over a WebSocket of its own;
/// read once, since it cannot change while the process runs.
fn dev_reload_sources() -> &'static str {
    static SOURCES: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SOURCES.get_or_init(|| {
        std::env::var("LEPTOS_WATCH")
            .is_ok()
            .then(|| std::env::var("LEPTOS_RELOAD_PORT").ok())
            .flatten()
            .map(|port| format!(" ws://127.0.0.1:{port} ws://localhost:{port}"))
            .unwrap_or_default()
    })
}

/// Adds the security headers to every response that does not set its own.
pub async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        if let Ok(policy) = HeaderValue::from_str(&content_security_policy(None)) {
            headers.insert(header::CONTENT_SECURITY_POLICY, policy);
        }
    }
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Refuses a state-changing request that a browser says came from another site. Scripts
/// send neither `Sec-Fetch-Site` nor `Origin` and pass; so do the dashboard's own calls.
pub async fn refuse_cross_site(request: Request, next: Next) -> Response {
    if !changes_nothing(request.method()) && is_cross_site(request.headers()) {
        return AppError::new(
            ErrorCode::Forbidden,
            "cross-site requests may not change anything here",
        )
        .into_response();
    }
    next.run(request).await
}

/// GET, HEAD and OPTIONS: the methods that read, never change.
pub(crate) fn changes_nothing(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn is_cross_site(headers: &HeaderMap) -> bool {
    let text = |name| headers.get(name).map(|v| v.to_str().unwrap_or(""));
    // Every current browser sends Sec-Fetch-Site; it is the browser's own verdict.
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        return !matches!(site, "same-origin" | "none");
    }
    // Older browsers: compare the Origin with the Host the request was sent to.
    match (text(header::ORIGIN), text(header::HOST)) {
        (None, _) => false,
        (Some(origin), Some(host)) => origin_host(origin) != Some(host),
        (Some(_), None) => true,
    }
}

/// `host[:port]` of an origin such as `http://127.0.0.1:3000`; `null` has none.
fn origin_host(origin: &str) -> Option<&str> {
    let (_, rest) = origin.split_once("://")?;
    (!rest.is_empty() && !rest.contains('/')).then_some(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn the_browsers_verdict_decides_when_it_is_given() {
        assert!(!is_cross_site(&headers(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(!is_cross_site(&headers(&[("sec-fetch-site", "none")])));
        for site in ["cross-site", "same-site", "nonsense"] {
            // same-site is another port or subdomain: still not this dashboard.
            let sent = headers(&[
                ("sec-fetch-site", site),
                ("origin", "http://a:1"),
                ("host", "a:1"),
            ]);
            assert!(is_cross_site(&sent), "{site}");
        }
    }

    #[test]
    fn otherwise_the_origin_must_be_the_host_asked() {
        assert!(!is_cross_site(&headers(&[])), "a script sends neither");
        assert!(!is_cross_site(&headers(&[
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000")
        ])));
        for origin in [
            "http://evil.example",
            "http://127.0.0.1:3001",
            "null",
            "http://127.0.0.1:3000/x",
        ] {
            let sent = headers(&[("origin", origin), ("host", "127.0.0.1:3000")]);
            assert!(is_cross_site(&sent), "{origin}");
        }
    }

    #[test]
    fn pages_may_run_only_their_nonced_scripts_and_wasm_and_never_be_framed() {
        let page = content_security_policy(Some("abc"));
        assert!(page.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"));
        assert!(page.contains("frame-ancestors 'none'"));
        assert!(!page.contains("unsafe-inline"));
        let other = content_security_policy(None);
        assert!(other.contains("script-src 'self';"));
        assert!(!other.contains("nonce") && !other.contains("wasm-unsafe-eval"));
    }
}
