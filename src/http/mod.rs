//! HTTP routes and the layers every request passes through.

mod distribution;
pub mod graphql;
mod media;
mod multipart;
mod open_data;
pub mod ops;
pub mod persisted;
mod unsubscribe;
pub mod ws;

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::State,
    extract::{DefaultBodyLimit, MatchedPath, Request},
    http::StatusCode,
    http::{HeaderName, HeaderValue, Method, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    cors::{AllowOrigin, CorsLayer},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::TraceLayer,
};

use crate::{
    graphql::{AppSchema, Schemas},
    state::AppState,
};

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What every handler gets.
#[derive(Clone)]
pub struct HttpState {
    pub app: AppState,
    pub schemas: Schemas,
    pub persisted: std::sync::Arc<persisted::PersistedQueries>,
    pub media_cache: std::sync::Arc<media::ServeCache>,
    /// Documents parsed and checked before, by their text.
    pub documents: std::sync::Arc<crate::kit::guard::Documents>,
}

impl HttpState {
    /// The schema a document runs on: questions about the schema alone may nest as deep as
    /// the standard introspection query does; everything else keeps the configured depth.
    pub fn schema_for(&self, introspection_only: bool) -> &AppSchema {
        if introspection_only {
            &self.schemas.introspection
        } else {
            &self.schemas.data
        }
    }
}

/// Stripe's webhook: its raw body goes to the payments module, which checks the signature.
async fn stripe_webhook(
    State(state): State<HttpState>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    crate::payments::webhook::handle(state.app, headers, body).await
}

/// The whole HTTP surface of the server.
pub fn router(app: AppState, schemas: Schemas) -> anyhow::Result<Router> {
    let server = &app.settings.server;
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(
            server
                .cors_origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok()),
        ))
        .allow_methods([Method::GET, Method::POST, Method::PUT])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::ACCEPT_LANGUAGE,
            HeaderName::from_static(multipart::PREFLIGHT_HEADERS[0]),
            HeaderName::from_static(multipart::PREFLIGHT_HEADERS[1]),
            HeaderName::from_static(multipart::PREFLIGHT_HEADERS[2]),
        ])
        .max_age(Duration::from_secs(3600));
    let body_limit = server.body_limit_bytes;
    let timeout = Duration::from_secs(server.request_timeout_secs);
    let persisted = std::sync::Arc::new(persisted::PersistedQueries::from_settings(
        &app.settings.graphql,
    )?);
    let upload_timeout = Duration::from_secs(app.settings.media.upload_url_ttl_secs.max(60));
    let media_cache =
        std::sync::Arc::new(media::ServeCache::new(app.settings.media.serve_cache_bytes));
    let state = HttpState {
        app,
        schemas,
        persisted,
        media_cache,
        documents: Default::default(),
    };
    // Direct uploads are for slow and flaky connections: they get as long as their address
    // lasts, not the request timeout of everything else.
    let uploads = Router::new()
        .route("/media/uploads/{token}", axum::routing::put(media::receive))
        .with_state(state.clone())
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            upload_timeout,
        ));
    // Installed before the first request so that every request is counted.
    crate::telemetry::metrics();

    Ok(Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(ws::upgrade))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/webhooks/stripe", post(stripe_webhook))
        .route(
            "/notifications/unsubscribe",
            get(unsubscribe::show).post(unsubscribe::apply),
        )
        .route("/media/i/{image}/{file}", get(media::serve))
        .route("/feeds/{channel}/{country}/{file}", get(distribution::feed))
        .route("/p/{shop}/{slug}", get(distribution::product_page))
        .route("/s/{shop}", get(distribution::shop_page))
        .route("/robots.txt", get(distribution::robots))
        .route("/sitemap.xml", get(distribution::sitemap_index))
        .route("/sitemaps/shops.xml", get(distribution::shop_sitemap))
        .route("/sitemaps/{language}/{file}", get(distribution::product_sitemap))
        .route("/statistics", get(open_data::statistics_page))
        .route("/open-data", get(open_data::index))
        .route("/open-data/dictionary.csv", get(open_data::dictionary))
        .route("/open-data/{file}", get(open_data::file))
        .with_state(state)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .merge(uploads)
        .layer(middleware::from_fn(record_metrics))
        .layer(cors)
        // Buyers abroad often pay for their bytes: answers are compressed with whichever of
        // zstd, brotli and gzip the client prefers (small bodies are left as they are).
        .layer(CompressionLayer::new())
        .layer(CatchPanicLayer::custom(panicked))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req
                .headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", request_id = %id, method = %req.method(), uri = %req.uri().path())
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), MakeRequestUuid)))
}

/// A panic ends only its own request: logged inside the request's span (so with its request
/// id) and answered as a coded GraphQL error, while other requests go on.
fn panicked(cause: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = cause
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| cause.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    tracing::error!(panic = %what, "request handler panicked");
    metrics::counter!("http_panics_total").increment(1);
    let body = serde_json::json!({ "errors": [{
        "message": "internal server error",
        "extensions": { "code": "INTERNAL_SERVER_ERROR" }
    }] });
    let mut response = (StatusCode::INTERNAL_SERVER_ERROR, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// Counts requests and their latency by route and status.
async fn record_metrics(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Whether `If-None-Match` names `tag` (a quoted entity tag) or `*`: the weak comparison
/// of RFC 9110, which is what a GET's 304 uses.
pub(crate) fn if_none_match(headers: &axum::http::HeaderMap, tag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .map(str::trim)
                .any(|t| t == "*" || t.trim_start_matches("W/") == tag.trim_start_matches("W/"))
        })
}

/// The client's address: the peer, or the first `X-Forwarded-For` hop when configured to
/// trust the load balancer in front.
pub fn client_address(
    headers: &axum::http::HeaderMap,
    peer: Option<SocketAddr>,
    trust_forwarded_for: bool,
) -> Option<String> {
    if trust_forwarded_for
        && let Some(first) = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
    {
        return Some(first.trim().to_owned());
    }
    peer.map(|p| p.ip().to_string())
}

#[cfg(test)]
mod tests {
    use axum::{Router, body::Body, http::Request, routing::get};
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn a_panicking_handler_answers_a_coded_500_and_the_router_lives_on() {
        let app = Router::new()
            .route(
                "/boom",
                get(|| async {
                    if std::hint::black_box(true) {
                        panic!("boom");
                    }
                    "unreachable"
                }),
            )
            .route("/fine", get(|| async { "fine" }))
            .layer(CatchPanicLayer::custom(panicked));
        let boom = app
            .clone()
            .oneshot(Request::get("/boom").body(Body::empty()).expect("request"))
            .await
            .expect("answered");
        assert_eq!(boom.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(boom.into_body(), 10_000)
            .await
            .expect("body");
        let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(
            json["errors"][0]["extensions"]["code"],
            "INTERNAL_SERVER_ERROR"
        );
        let fine = app
            .oneshot(Request::get("/fine").body(Body::empty()).expect("request"))
            .await
            .expect("answered");
        assert_eq!(fine.status(), StatusCode::OK);
    }
}
