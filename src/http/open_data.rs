//! The open data at stable addresses, for anyone and any tool:
//! - `GET /open-data`: the index (quarters, file links, licence, rule, dictionary);
//! - `GET /open-data/dictionary.csv`: every column in Mongolian and English;
//! - `GET /open-data/{YYYY-Qn}.csv` (`?bom=1` for spreadsheet software) and `.json`.

use axum::{
    Json,
    body::Body,
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use super::HttpState;
use super::distribution::text;
use crate::statistics::{
    open_data::{self, About},
    query,
};

/// Files change only as orders of the quarter change; caches may keep them an hour.
const MAX_AGE: &str = "public, max-age=3600";

/// `GET /open-data`.
pub async fn index(State(state): State<HttpState>) -> Response {
    let quarters = match open_data::quarters(&state.app).await {
        Ok(q) => q,
        Err(e) => return e.into_response(),
    };
    let settings = &state.app.settings.statistics;
    let files: Vec<serde_json::Value> = quarters
        .iter()
        .map(|q| {
            json!({
                "quarter": q,
                "csv": format!("/open-data/{q}.csv"),
                "json": format!("/open-data/{q}.json"),
            })
        })
        .collect();
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(json!({
            "title": "Darkhan marketplace: sales of Mongolian crafts by destination and craft",
            "title_mn": "Дархан зах зээл: монгол гар урлалын борлуулалт, улс ба төрлөөр",
            "licence": settings.licence,
            "min_shops": settings.min_shops,
            "suppression_rule": query::rule(settings.min_shops),
            "dictionary": "/open-data/dictionary.csv",
            "generated_at": Utc::now().to_rfc3339(),
            "quarters": files,
        })),
    )
        .into_response()
}

/// `GET /open-data/dictionary.csv`.
pub async fn dictionary() -> Response {
    match open_data::dictionary_csv() {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (header::CACHE_CONTROL, MAX_AGE),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct FileQuery {
    bom: Option<String>,
}

/// `GET /open-data/{YYYY-Qn}.{csv|json}`.
pub async fn file(
    State(state): State<HttpState>,
    Path(file): Path<String>,
    Query(q): Query<FileQuery>,
) -> Response {
    let (quarter, csv) = match (file.strip_suffix(".csv"), file.strip_suffix(".json")) {
        (Some(q), _) => (q, true),
        (_, Some(q)) => (q, false),
        _ => return text(StatusCode::NOT_FOUND, "no such file; try /open-data\n"),
    };
    if query::Month::quarter(quarter).is_none() {
        return text(StatusCode::NOT_FOUND, "no such quarter; write it 2026-Q3\n");
    }
    let table = match open_data::quarter(&state.app, quarter).await {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let settings = &state.app.settings.statistics;
    if !csv {
        let about = About {
            quarter,
            licence: &settings.licence,
            generated_at: Utc::now(),
        };
        return (
            [(header::CACHE_CONTROL, MAX_AGE)],
            Json(open_data::json(&table, &about)),
        )
            .into_response();
    }
    let bom = q.bom.is_some_and(|b| b == "1" || b == "true");
    let chunks = match open_data::csv_chunks(&table, bom) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let body = Body::from_stream(futures_util::stream::iter(
        chunks.into_iter().map(Ok::<_, std::convert::Infallible>),
    ));
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CACHE_CONTROL, MAX_AGE),
        ],
        body,
    )
        .into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"darkhan-open-data-{quarter}.csv\""
    )) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        header::LINK,
        HeaderValue::from_static("</open-data/dictionary.csv>; rel=\"describedby\""),
    );
    response
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
}

/// `GET /statistics?lang=mn|en`: the charts page; without `lang`, in the first of the
/// browser's languages it is offered in, else English.
pub async fn statistics_page(
    State(state): State<HttpState>,
    Query(q): Query<PageQuery>,
    headers: axum::http::HeaderMap,
) -> Response {
    // `lang` first, then the browser's languages in order; English when none is offered.
    let mut requested: Vec<String> = q.lang.into_iter().collect();
    requested.extend(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(crate::i18n::parse_accept_language)
            .unwrap_or_default(),
    );
    let language = crate::i18n::pick_language(&["mn", "en"], &requested, "en").unwrap_or("en");
    match crate::statistics::charts::page(&state.app, language).await {
        Ok(html) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "public, max-age=300"),
                (header::VARY, "Accept-Language"),
            ],
            html,
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}
