//! Product feeds, sitemaps, robots.txt and the shared pages of products and shops: plain
//! HTTP for crawlers and channel fetchers, which speak no GraphQL.

use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;

use super::{HttpState, if_none_match};
use crate::distribution::{
    feeds::{self, Channel, Market},
    pages::{self, Page, PageRequest},
};

/// How long channels and caches may keep a feed before asking again (they revalidate with
/// `If-None-Match` and usually get a `304`).
const FEED_MAX_AGE: &str = "public, max-age=3600";

/// A short plain-text answer, as crawlers and feed fetchers expect for errors.
pub(super) fn text(status: StatusCode, body: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// `GET /feeds/{google|meta}/{COUNTRY}/{language}.{xml|csv}`.
pub async fn feed(
    State(state): State<HttpState>,
    Path((channel, country, file)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let channel = match channel.as_str() {
        "google" => Channel::Google,
        "meta" => Channel::Meta,
        _ => return text(StatusCode::NOT_FOUND, "no such feed\n"),
    };
    let Some(language) = file
        .strip_suffix(channel.extension())
        .and_then(|f| f.strip_suffix('.'))
    else {
        return text(StatusCode::NOT_FOUND, "no such feed\n");
    };
    let settings = &state.app.settings;
    let Some(market) = Market::find(settings, &country, language) else {
        return text(
            StatusCode::NOT_FOUND,
            "no feed for this country and language\n",
        );
    };
    let version = match feeds::version(&state.app.db, channel, &market).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let mut head = HeaderMap::new();
    head.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(FEED_MAX_AGE),
    );
    if let Ok(tag) = HeaderValue::from_str(&version.etag) {
        head.insert(header::ETAG, tag);
    }
    if let Ok(at) = HeaderValue::from_str(&http_date(version.last_modified)) {
        head.insert(header::LAST_MODIFIED, at);
    }
    if not_modified(&headers, &version.etag, version.last_modified) {
        return (StatusCode::NOT_MODIFIED, head).into_response();
    }
    head.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(channel.content_type()),
    );
    let body = feeds::stream(
        state.app.db.clone(),
        state.app.settings.clone(),
        channel,
        market,
    )
    .map_err(|e| {
        tracing::error!(error = ?e, "a feed stopped half-way");
        std::io::Error::other("the feed could not be completed")
    });
    (head, Body::from_stream(body)).into_response()
}

/// Whether the client's copy is current: `If-None-Match` decides when sent, else
/// `If-Modified-Since` (RFC 9110 §13.2.2).
pub(super) fn not_modified(headers: &HeaderMap, etag: &str, last_modified: DateTime<Utc>) -> bool {
    if headers.contains_key(header::IF_NONE_MATCH) {
        return if_none_match(headers, etag);
    }
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| DateTime::parse_from_rfc2822(v).ok())
        .is_some_and(|since| last_modified <= since)
}

/// An IMF-fixdate, as HTTP writes dates.
pub(super) fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// How long crawlers and link previewers may keep a page or sitemap.
const PAGE_MAX_AGE: &str = "public, max-age=300";

/// `?lang=` and `?currency=` on a shared link.
#[derive(serde::Deserialize)]
pub struct PageParams {
    lang: Option<String>,
    currency: Option<String>,
}

fn page_request(params: PageParams, headers: &HeaderMap) -> PageRequest {
    PageRequest {
        language: params.lang,
        currency: params.currency,
        accept_language: headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(crate::i18n::parse_accept_language)
            .unwrap_or_default(),
    }
}

fn html(page: AppResultPage) -> Response {
    match page {
        Ok(page) => {
            let mut head = HeaderMap::new();
            head.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static(PAGE_MAX_AGE),
            );
            head.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            head.insert(header::VARY, HeaderValue::from_static("accept-language"));
            if let Ok(at) = HeaderValue::from_str(&http_date(page.last_modified)) {
                head.insert(header::LAST_MODIFIED, at);
            }
            (head, page.html).into_response()
        }
        Err(crate::error::AppError::NotFound(_)) => not_found_page(),
        Err(e) => e.into_response(),
    }
}

type AppResultPage = crate::error::AppResult<Page>;

fn not_found_page() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"robots\" \
         content=\"noindex\"><title>Not found | Darkhan</title></head><body><p>This page does not \
         exist.</p></body></html>",
    )
        .into_response()
}

/// `GET /p/{shop}/{slug}`: a product's page.
pub async fn product_page(
    State(state): State<HttpState>,
    Path((shop, slug)): Path<(String, String)>,
    Query(params): Query<PageParams>,
    headers: HeaderMap,
) -> Response {
    let request = page_request(params, &headers);
    html(pages::product_page(&state.app.db, &state.app.settings, &shop, &slug, &request).await)
}

/// `GET /s/{shop}`: a shop's page.
pub async fn shop_page(
    State(state): State<HttpState>,
    Path(shop): Path<String>,
    Query(params): Query<PageParams>,
    headers: HeaderMap,
) -> Response {
    let request = page_request(params, &headers);
    html(pages::shop_page(&state.app.db, &state.app.settings, &shop, &request).await)
}

/// `GET /robots.txt`.
pub async fn robots(State(state): State<HttpState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        pages::robots(&state.app.settings),
    )
        .into_response()
}

fn xml_body(body: crate::error::AppResult<Option<String>>) -> Response {
    match body {
        Ok(Some(xml)) => (
            [
                (header::CONTENT_TYPE, "application/xml; charset=utf-8"),
                (header::CACHE_CONTROL, PAGE_MAX_AGE),
            ],
            xml,
        )
            .into_response(),
        Ok(None) => text(StatusCode::NOT_FOUND, "no such sitemap\n"),
        Err(e) => e.into_response(),
    }
}

/// `GET /sitemap.xml`: the index of every sitemap.
pub async fn sitemap_index(State(state): State<HttpState>) -> Response {
    xml_body(
        pages::sitemap_index(&state.app.db, &state.app.settings)
            .await
            .map(Some),
    )
}

/// `GET /sitemaps/shops.xml`.
pub async fn shop_sitemap(State(state): State<HttpState>) -> Response {
    xml_body(
        pages::shop_sitemap(&state.app.db, &state.app.settings)
            .await
            .map(Some),
    )
}

/// `GET /sitemaps/{language}/{n}.xml`: product pages written in that language.
pub async fn product_sitemap(
    State(state): State<HttpState>,
    Path((language, file)): Path<(String, String)>,
) -> Response {
    let settings = &state.app.settings;
    let (Some(language), Some(page)) = (
        feeds::offered_language(settings, &language),
        file.strip_suffix(".xml")
            .and_then(|n| n.parse::<u64>().ok()),
    ) else {
        return text(StatusCode::NOT_FOUND, "no such sitemap\n");
    };
    xml_body(pages::product_sitemap(&state.app.db, settings, &language, page).await)
}
