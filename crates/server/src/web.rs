//! The web client, compiled into the binary: `web/dist` is embedded at build time (a release
//! binary is the whole product), and read from disk in debug builds so the client can be
//! rebuilt without recompiling the server.
//!
//! Hashed assets under `/assets/` are cached forever; every other path that is not a file
//! answers `index.html`, so the client's own routes (`/channels/…`, `/invite/…`) work on
//! reload. The page gets a strict Content-Security-Policy: nothing inline, nothing from
//! elsewhere.

use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../../web/dist"]
#[allow_missing = true]
struct Client;

const APP_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
    media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// Serves a file of the client, or the app's `index.html` for any other path.
pub async fn serve(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    match Client::get(path).filter(|_| !path.is_empty()) {
        Some(file) => {
            let cache = if path.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
            asset(file, cache)
        }
        None => match Client::get("index.html") {
            Some(index) => asset(index, "no-cache"),
            None => (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "The web client is not built. Run `make run` (or `cd web && npm ci && npm run build`) and restart madang.\n",
            )
                .into_response(),
        },
    }
}

fn asset(file: rust_embed::EmbeddedFile, cache: &'static str) -> Response {
    let mime = file.metadata.mimetype();
    let mut response = (StatusCode::OK, file.data).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(mime) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(APP_CSP),
    );
    response
}
