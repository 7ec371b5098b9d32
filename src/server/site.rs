//! The dashboard's built assets (wasm, JS, CSS and the `public/` files). A release binary
//! built by `make build` (feature `embed-site`) carries them inside, so it serves the
//! dashboard from any directory as one file; `--site-root DIR` (or `LEPTOS_SITE_ROOT`,
//! which `cargo leptos watch` sets) serves them from disk instead, through Leptos.
//!
//! An embedded file is sent precompressed (brotli or gzip, made by `cargo leptos build
//! --precompress`) when the client accepts it, with its type, a strong ETag, `Vary:
//! Accept-Encoding` and `Cache-Control: no-cache`. Nothing is cached for a year because
//! no name is content-hashed: Leptos names the bundle `pkg/spool.wasm` whatever it holds
//! (its hashed names are read at run time from a file beside the binary, which a one-file
//! binary cannot have), so browsers revalidate and get a `304` while a file is unchanged.
//!
//! Written here rather than taken from a crate: the embedding crates' servers either
//! leave out `Cache-Control` and `Vary` or want to own the router, and Leptos must keep
//! answering every path that is not a file.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The site as `cargo leptos build` left it, compiled in. A build with no site yet (the
/// linters' check builds) embeds nothing, and serves `target/site` from disk.
#[cfg(feature = "embed-site")]
#[derive(rust_embed::Embed)]
#[folder = "target/site"]
#[allow_missing = true]
#[exclude = "*.d.ts"]
#[exclude = "*.d.ts.*"]
struct Embedded;

/// Where the dashboard's assets come from.
#[derive(Clone, Debug)]
pub enum SiteAssets {
    /// A directory on disk, served by Leptos.
    Disk(PathBuf),
    /// Compiled into the binary. Leptos still reads one file from disk (the split
    /// manifest, to preload a page's chunks), so that one is written to a private
    /// directory, removed when the server stops (without it, pages load their chunks
    /// only once they need them).
    Embedded(Arc<ManifestDir>),
}

/// Where the server looks when neither `--site-root` nor an embedded site says.
const DEFAULT_SITE_ROOT: &str = "target/site";

/// Leptos's split manifest, relative to the site root.
const SPLIT_MANIFEST: &str = "pkg/__wasm_split_manifest.json";

impl SiteAssets {
    /// `site_root` when given; else the embedded site when this binary has one; else
    /// `target/site`.
    pub fn choose(site_root: Option<&Path>) -> SiteAssets {
        if let Some(dir) = site_root {
            return SiteAssets::Disk(dir.to_path_buf());
        }
        if embedded("pkg/spool.wasm").is_none() {
            return SiteAssets::Disk(PathBuf::from(DEFAULT_SITE_ROOT));
        }
        SiteAssets::Embedded(Arc::new(ManifestDir::write()))
    }

    /// The directory Leptos treats as its site root.
    pub fn leptos_root(&self) -> &Path {
        match self {
            SiteAssets::Disk(dir) => dir,
            SiteAssets::Embedded(manifest) => &manifest.0,
        }
    }

    pub fn is_embedded(&self) -> bool {
        matches!(self, SiteAssets::Embedded(_))
    }
}

/// A private directory holding the embedded split manifest; removed on drop.
#[derive(Debug)]
pub struct ManifestDir(PathBuf);

impl ManifestDir {
    /// A read-only file system (a bare container, say) only loses the preloads: the
    /// pages still fetch their chunks when they need them.
    fn write() -> ManifestDir {
        let dir = std::env::temp_dir().join(format!(
            "spool-site-{}-{}",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let manifest = ManifestDir(dir);
        if let Some(file) = embedded(SPLIT_MANIFEST) {
            let path = manifest.0.join(SPLIT_MANIFEST);
            let written = path
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| std::fs::write(&path, &file.bytes));
            if let Err(err) = written {
                tracing::warn!(error = %err, path = %path.display(), "cannot write the dashboard's split manifest; its pages will not preload their code");
            }
        }
        manifest
    }
}

impl Drop for ManifestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One embedded file.
struct Asset {
    bytes: Cow<'static, [u8]>,
    sha256: [u8; 32],
}

#[cfg(feature = "embed-site")]
fn embedded(path: &str) -> Option<Asset> {
    Embedded::get(path).map(|file| Asset {
        sha256: file.metadata.sha256_hash(),
        bytes: file.data,
    })
}

#[cfg(not(feature = "embed-site"))]
fn embedded(_path: &str) -> Option<Asset> {
    None
}

/// Content codings the embedded site has a precompressed copy in, best first.
const CODINGS: [(&str, &str); 2] = [("br", "br"), ("gzip", "gz")];

/// The embedded file `path` names, as the answer to a `method` request with `headers`;
/// `None` when there is no such file (Leptos answers then: a page, or its 404).
pub fn respond(method: &Method, path: &str, headers: &HeaderMap) -> Option<Response> {
    if method != Method::GET && method != Method::HEAD {
        return None;
    }
    let path = file_path(path)?;
    let original = embedded(path)?;
    let (coding, asset) = CODINGS
        .iter()
        .filter(|(coding, _)| accepts(headers, coding))
        .find_map(|(coding, suffix)| {
            embedded(&format!("{path}.{suffix}")).map(|asset| (Some(*coding), asset))
        })
        .unwrap_or((None, original));
    let etag = format!("\"{}\"", hex(&asset.sha256));
    let unchanged = already_has(headers, &etag);
    let mut response = Response::builder()
        .header(header::ETAG, &etag)
        .header(header::CACHE_CONTROL, "no-cache")
        .header(header::VARY, "accept-encoding");
    if unchanged {
        return response
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .ok();
    }
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    response = response
        .header(header::CONTENT_TYPE, mime.as_ref())
        .header(header::CONTENT_LENGTH, asset.bytes.len());
    if let Some(coding) = coding {
        response = response.header(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    let body = match (method == Method::HEAD, asset.bytes) {
        (true, _) => Body::empty(),
        (false, Cow::Borrowed(bytes)) => Body::from(bytes),
        (false, Cow::Owned(bytes)) => Body::from(bytes),
    };
    response.body(body).ok()
}

/// The site-relative file a request path names, if it can name one: no empty, `.` or
/// `..` segment, and not a precompressed copy asked for by name.
fn file_path(path: &str) -> Option<&str> {
    let path = path.strip_prefix('/')?;
    let safe = !path.is_empty()
        && path
            .split('/')
            .all(|segment| !segment.is_empty() && segment != "." && segment != "..");
    let copy = CODINGS
        .iter()
        .any(|(_, suffix)| path.ends_with(&format!(".{suffix}")));
    (safe && !copy).then_some(path)
}

/// Whether the request's `If-None-Match` names `etag` (or `*`), compared weakly as RFC 9110
/// asks of it: `W/"x"` matches `"x"`.
fn already_has(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// Whether `Accept-Encoding` accepts `coding` (named, with a q-value above zero).
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let quality = parts
                .find_map(|part| part.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            name.eq_ignore_ascii_case(coding) && quality > 0.0
        })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::{accepts, already_has, file_path};
    use axum::http::{header, HeaderMap, HeaderValue};

    fn accept_encoding(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn a_coding_is_accepted_when_named_with_a_quality_above_zero() {
        let headers = accept_encoding("gzip, deflate, br;q=0");
        assert!(accepts(&headers, "gzip"));
        assert!(!accepts(&headers, "br"));
        assert!(accepts(&accept_encoding("BR;q=0.5"), "br"));
        assert!(!accepts(&HeaderMap::new(), "gzip"));
        assert!(!accepts(&accept_encoding("gzip;q=0.000"), "gzip"));
    }

    #[test]
    fn if_none_match_is_compared_weakly_and_across_a_list() {
        let tagged = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static(value));
            headers
        };
        assert!(already_has(&tagged("\"ab\""), "\"ab\""));
        assert!(already_has(&tagged("W/\"ab\""), "\"ab\""));
        assert!(already_has(&tagged("\"x\", W/\"ab\""), "\"ab\""));
        assert!(already_has(&tagged("*"), "\"ab\""));
        assert!(!already_has(&tagged("\"abc\""), "\"ab\""));
        assert!(!already_has(&HeaderMap::new(), "\"ab\""));
    }

    #[test]
    fn only_plain_site_paths_name_a_file() {
        assert_eq!(file_path("/pkg/spool.wasm"), Some("pkg/spool.wasm"));
        assert_eq!(file_path("/favicon.ico"), Some("favicon.ico"));
        for refused in [
            "/",
            "",
            "pkg/x",
            "/pkg/../Cargo.toml",
            "/pkg//x",
            "/./x",
            "/pkg/spool.wasm.br",
            "/pkg/spool.wasm.gz",
        ] {
            assert_eq!(file_path(refused), None, "{refused}");
        }
    }
}
