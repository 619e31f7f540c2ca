//! `/media`: renditions served from storage with immutable caching, strong ETags and 304,
//! and single byte ranges; and the one-time upload address of direct uploads.

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
};

use axum::{
    body::{Body, Bytes},
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::HttpState;
use crate::{error::AppError, media};

/// Small renditions kept in memory, first in first out within a byte budget: list pages ask
/// for the same few hundred thumbnails over and over.
pub struct ServeCache {
    budget: u64,
    inner: Mutex<(HashMap<String, Bytes>, VecDeque<String>, u64)>,
}

/// Renditions larger than this are always read from storage.
const CACHED_MAX: usize = 512 * 1024;

impl ServeCache {
    pub fn new(budget: u64) -> Self {
        Self {
            budget,
            inner: Mutex::new((HashMap::new(), VecDeque::new(), 0)),
        }
    }

    fn get(&self, key: &str) -> Option<Bytes> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.0.get(key).cloned()
    }

    fn put(&self, key: &str, bytes: &Bytes) {
        if self.budget == 0 || bytes.len() > CACHED_MAX {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (map, order, used) = &mut *inner;
        if map.contains_key(key) {
            return;
        }
        while *used + bytes.len() as u64 > self.budget {
            let Some(old) = order.pop_front() else { break };
            if let Some(gone) = map.remove(&old) {
                *used -= gone.len() as u64;
            }
        }
        *used += bytes.len() as u64;
        map.insert(key.to_owned(), bytes.clone());
        order.push_back(key.to_owned());
    }
}

/// `GET /media/i/{image}/{file}`, e.g. `/media/i/0190…/480.webp`.
pub async fn serve(
    State(state): State<HttpState>,
    Path((image, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some((key, content_type)) = rendition(&image, &file) else {
        return not_found();
    };
    // The key never changes its bytes, so it is a strong validator by itself.
    let etag = format!("\"{image}-{file}\"");
    if super::if_none_match(&headers, &etag) {
        return with_headers(
            StatusCode::NOT_MODIFIED.into_response(),
            content_type,
            &etag,
        );
    }
    let bytes = match state.media_cache.get(&key) {
        Some(bytes) => bytes,
        None => match state.app.storage.get(&key).await {
            Ok(Some(object)) => {
                state.media_cache.put(&key, &object.bytes);
                object.bytes
            }
            Ok(None) => return not_found(),
            Err(e) => return AppError::Internal(e).into_response(),
        },
    };
    let total = bytes.len() as u64;
    // A range applies only if the client's copy is this one (If-Range) or it has none.
    let range_applies = headers
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.trim() == etag);
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .filter(|_| range_applies)
        .map(|v| parse_range(v, total));
    let response = match range {
        None | Some(Range::Ignored) => (StatusCode::OK, Body::from(bytes)).into_response(),
        Some(Range::Unsatisfiable) => {
            let mut response = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{total}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            response
        }
        Some(Range::Bytes(start, end)) => {
            let part = bytes.slice(start as usize..=end as usize);
            let mut response = (StatusCode::PARTIAL_CONTENT, Body::from(part)).into_response();
            if let Ok(value) = HeaderValue::from_str(&format!("bytes {start}-{end}/{total}")) {
                response.headers_mut().insert(header::CONTENT_RANGE, value);
            }
            response
        }
    };
    with_headers(response, content_type, &etag)
}

fn with_headers(mut response: Response, content_type: &'static str, etag: &str) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(media::IMMUTABLE),
    );
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Photos are public and shown by the web front end from another origin.
    headers.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    response
}

fn not_found() -> Response {
    AppError::NotFound("no such file".into()).into_response()
}

/// The storage key and content type of a rendition address, or `None` for anything else
/// (in particular the raw uploads, which are never served).
fn rendition(image: &str, file: &str) -> Option<(String, &'static str)> {
    let image = uuid::Uuid::parse_str(image).ok()?;
    let (width, extension) = file.split_once('.')?;
    let width: u32 = width.parse().ok().filter(|w| (1..=10_000).contains(w))?;
    let encoding = media::process::Encoding::ALL
        .into_iter()
        .find(|e| e.extension() == extension)?;
    Some((
        media::rendition_key(image, width, encoding),
        encoding.content_type(),
    ))
}

#[derive(Debug, PartialEq, Eq)]
enum Range {
    /// Inclusive byte positions.
    Bytes(u64, u64),
    Unsatisfiable,
    /// Not one range we serve (several ranges, another unit, nonsense): the whole file.
    Ignored,
}

fn parse_range(value: &str, total: u64) -> Range {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Range::Ignored;
    };
    if spec.contains(',') {
        return Range::Ignored;
    }
    let Some((start, end)) = spec.trim().split_once('-') else {
        return Range::Ignored;
    };
    let (start, end) = (start.trim(), end.trim());
    let parsed = match (start.is_empty(), end.is_empty()) {
        // The last n bytes.
        (true, false) => match end.parse::<u64>() {
            Ok(0) => return Range::Unsatisfiable,
            Ok(n) => Some((total.saturating_sub(n), total.saturating_sub(1))),
            Err(_) => None,
        },
        (false, true) => start
            .parse::<u64>()
            .ok()
            .map(|s| (s, total.saturating_sub(1))),
        (false, false) => match (start.parse::<u64>(), end.parse::<u64>()) {
            (Ok(s), Ok(e)) if s <= e => Some((s, e.min(total.saturating_sub(1)))),
            _ => None,
        },
        (true, true) => None,
    };
    match parsed {
        None => Range::Ignored,
        Some((start, _)) if total == 0 || start >= total => Range::Unsatisfiable,
        Some((start, end)) => Range::Bytes(start, end),
    }
}

/// `PUT /media/uploads/{token}`: a direct upload's bytes, streamed and refused as soon as
/// they pass the limit.
pub async fn receive(
    State(state): State<HttpState>,
    Path(token): Path<String>,
    body: Body,
) -> Response {
    match media::receive_upload(&state.app, &token, body.into_data_stream()).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => err.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Range::Bytes(0, 9));
        assert_eq!(parse_range("bytes=90-", 100), Range::Bytes(90, 99));
        assert_eq!(parse_range("bytes=-10", 100), Range::Bytes(90, 99));
        assert_eq!(parse_range("bytes=50-500", 100), Range::Bytes(50, 99));
        assert_eq!(parse_range("bytes=100-", 100), Range::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Range::Ignored);
        assert_eq!(parse_range("items=0-1", 100), Range::Ignored);
        assert_eq!(parse_range("bytes=9-1", 100), Range::Ignored);
    }

    #[test]
    fn only_renditions_have_addresses() {
        let id = "0190a6c4-0000-7000-8000-000000000000";
        assert!(rendition(id, "480.webp").is_some());
        assert!(rendition(id, "480.png").is_none());
        assert!(rendition("uploads", "480.webp").is_none());
        assert!(rendition(id, "../480.webp").is_none());
    }

    #[test]
    fn the_cache_keeps_to_its_budget() {
        let cache = ServeCache::new(10);
        cache.put("a", &Bytes::from_static(b"123456"));
        cache.put("b", &Bytes::from_static(b"123456"));
        assert!(cache.get("a").is_none(), "the oldest made room");
        assert!(cache.get("b").is_some());
    }
}
