//! GraphQL over HTTP, following the GraphQL-over-HTTP specification: JSON POSTs only,
//! queries (never mutations) by GET, `application/graphql-response+json` with 4xx for
//! request errors, `application/json` with 200 for older clients.

use std::net::SocketAddr;

use async_graphql::{
    Request as GqlRequest, Response as GqlResponse, Variables, http::GraphiQLSource,
    parser::types::OperationType,
};
use axum::{
    body::Bytes,
    extract::rejection::BytesRejection,
    extract::{ConnectInfo, RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};
use serde_json::{Map, Value, json};

use super::{HttpState, client_address};
use crate::cache::Cached;
use crate::{
    auth::Caller,
    kit::{ClientAddress, errors, guard},
};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// Which media type the response uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Media {
    GraphqlResponseJson,
    Json,
}

impl Media {
    fn content_type_str(self) -> &'static str {
        match self {
            Self::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        }
    }

    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(self.content_type_str())
    }

    /// Picks the response type from `Accept`; a missing header means `application/json`.
    /// `None` when the client accepts neither JSON type.
    fn negotiate(headers: &HeaderMap) -> Option<Self> {
        let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
            return Some(Self::Json);
        };
        let mut json = false;
        for item in accept.split(',') {
            let mut parts = item.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let refused = parts.any(|p| {
                let p = p.trim().replace(' ', "");
                p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000"
            });
            if refused {
                continue;
            }
            match media.as_str() {
                GRAPHQL_RESPONSE_JSON => return Some(Self::GraphqlResponseJson),
                JSON | "*/*" | "application/*" => json = true,
                _ => {}
            }
        }
        json.then_some(Self::Json)
    }
}

/// An error about the HTTP request itself, before any GraphQL ran.
pub(super) fn request_error(
    media: Media,
    status: StatusCode,
    code: &str,
    message: &str,
) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, media.content_type());
    response
}

fn not_acceptable() -> Response {
    request_error(
        Media::Json,
        StatusCode::NOT_ACCEPTABLE,
        "NOT_ACCEPTABLE",
        "accept application/graphql-response+json or application/json",
    )
}

/// `POST /graphql` with a JSON body, or a multipart body carrying files.
pub async fn post(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: axum::extract::Request,
) -> Response {
    let headers = request.headers().clone();
    let Some(media) = Media::negotiate(&headers) else {
        return not_acceptable();
    };
    let client = client_address(
        &headers,
        Some(peer),
        state.app.settings.server.trust_forwarded_for,
    );
    if super::multipart::is_multipart(&headers) {
        return super::multipart::post(&state, &headers, media, request.into_body(), client).await;
    }
    let body: Result<Bytes, BytesRejection> =
        <Bytes as axum::extract::FromRequest<HttpState>>::from_request(request, &state).await;
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let limit = state.app.settings.server.body_limit_bytes;
            return request_error(
                media,
                rejection.status(),
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    "PAYLOAD_TOO_LARGE"
                } else {
                    "BAD_REQUEST"
                },
                &format!("the body could not be read; at most {limit} bytes are accepted"),
            );
        }
    };
    // Only JSON bodies (and multipart with a preflight header, above): a form or text/plain
    // POST is what a cross-site page can send without a CORS preflight.
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut params = content_type.split(';');
    let essence = params.next().unwrap_or("").trim().to_ascii_lowercase();
    let charset_ok = params.all(|p| {
        let p = p.trim().to_ascii_lowercase();
        !p.starts_with("charset=") || p == "charset=utf-8" || p == "charset=\"utf-8\""
    });
    if essence != JSON || !charset_ok {
        return request_error(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "send the request as application/json (UTF-8)",
        );
    }
    let params = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(map)) => map,
        Ok(Value::Array(_)) => {
            return request_error(
                media,
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "batched requests are not supported",
            );
        }
        Ok(_) | Err(_) => {
            return request_error(
                media,
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "the body must be a JSON object",
            );
        }
    };
    let request = match request_from_params(params) {
        Ok(request) => request,
        Err(message) => {
            return request_error(media, StatusCode::BAD_REQUEST, "BAD_REQUEST", &message);
        }
    };
    execute(&state, &headers, media, request, client, false).await
}

/// `GET /graphql`: GraphiQL for browsers, otherwise a query from the URL.
pub async fn get(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if wants_html && !query.split('&').any(|p| p.starts_with("query=")) {
        return Html(
            GraphiQLSource::build()
                .endpoint("/graphql")
                .subscription_endpoint("/graphql/ws")
                .title("Darkhan GraphQL")
                .finish(),
        )
        .into_response();
    }
    let Some(media) = Media::negotiate(&headers) else {
        return not_acceptable();
    };
    let request = match async_graphql::http::parse_query_string(&query) {
        Ok(request)
            if !request.query.is_empty() || request.extensions.get("persistedQuery").is_some() =>
        {
            request
        }
        Ok(_) => {
            return request_error(
                media,
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "the query parameter is missing",
            );
        }
        Err(err) => {
            return request_error(
                media,
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("invalid request parameters: {err}"),
            );
        }
    };
    let client = client_address(
        &headers,
        Some(peer),
        state.app.settings.server.trust_forwarded_for,
    );
    execute(&state, &headers, media, request, client, true).await
}

/// Reads `query`, `operationName`, `variables` and `extensions` strictly.
pub(super) fn request_from_params(mut params: Map<String, Value>) -> Result<GqlRequest, String> {
    let persisted = params
        .get("extensions")
        .is_some_and(|e| e.get("persistedQuery").is_some());
    let query = match params.remove("query") {
        Some(Value::String(q)) => q,
        // A persisted query may come as its hash alone.
        None if persisted => String::new(),
        Some(_) => return Err("query must be a string".into()),
        None => return Err("the query parameter is missing".into()),
    };
    let operation_name = match params.remove("operationName") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name),
        Some(_) => return Err("operationName must be a string".into()),
    };
    let variables = match params.remove("variables") {
        None | Some(Value::Null) => Variables::default(),
        Some(v @ Value::Object(_)) => Variables::from_json(v),
        Some(_) => return Err("variables must be an object".into()),
    };
    let extensions = match params.remove("extensions") {
        None | Some(Value::Null) => Default::default(),
        Some(Value::Object(map)) => async_graphql::Extensions(
            map.into_iter()
                .filter_map(|(k, v)| async_graphql::Value::from_json(v).ok().map(|v| (k, v)))
                .collect(),
        ),
        Some(_) => return Err("extensions must be an object".into()),
    };
    let mut request = GqlRequest::new(query).variables(variables);
    request.operation_name = operation_name;
    request.extensions = extensions;
    Ok(request)
}

/// Parses, checks the operation kind against the method, runs, and writes the response.
pub(super) async fn execute(
    state: &HttpState,
    headers: &HeaderMap,
    media: Media,
    mut request: GqlRequest,
    client: Option<String>,
    is_get: bool,
) -> Response {
    let checked = state
        .persisted
        .resolve(&mut request)
        .and_then(|()| guard::check(&state.documents, &mut request));
    let document = match checked {
        Ok(document) => document,
        Err(error) => {
            return cached_response(
                render(media, GqlResponse::from_errors(vec![error]), false),
                "bypass",
            );
        }
    };
    let kind = operation_kind(&document, request.operation_name.as_deref());
    if is_get && kind == Some(OperationType::Mutation) {
        let mut response = request_error(
            media,
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "mutations must be sent by POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    if kind == Some(OperationType::Subscription) {
        return request_error(
            media,
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "subscriptions are served over WebSocket at /graphql/ws",
        );
    }
    let introspection = guard::is_introspection(&document, request.operation_name.as_deref());
    let changes = guard::changes_public_data(&document, request.operation_name.as_deref());
    request.set_parsed_query(document);

    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let accept_language = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let cache = &state.app.response_cache;
    // Only anonymous queries are shared: a signed-in caller may see their own drafts.
    let cache_key = (authorization.is_none()
        && kind == Some(OperationType::Query)
        && cache.enabled())
    .then(|| {
        format!(
            "{media:?}\n{}\n{}\n{}\n{}",
            accept_language.unwrap_or(""),
            request.operation_name.as_deref().unwrap_or(""),
            serde_json::to_string(&request.variables).unwrap_or_default(),
            request.query
        )
    });
    // Anonymous GET queries that succeed may be kept by browsers and CDNs.
    let shareable = is_get && authorization.is_none() && kind == Some(OperationType::Query);
    let policy = |rendered: Cached, source, ok: bool| {
        let public = (shareable && ok).then_some(&state.app.settings.graphql);
        with_cache_policy(headers, rendered, source, public)
    };
    if let Some(key) = &cache_key
        && let Some(hit) = cache.get(key)
    {
        return policy(hit, "hit", true);
    }
    let stamp = state.app.changes.stamp();
    let read = crate::cache::ReadSet::default();

    let caller = Caller::from_bearer(&state.app.keys, authorization);
    let request = crate::graphql::per_request(request, &state.app, accept_language, caller)
        .await
        .data(ClientAddress(client))
        .data(crate::kit::UserAgent::from_headers(headers))
        .data(read.clone());
    if changes {
        // Copies of the catalogue read while the mutation runs (its own answer, say) must
        // not outlive it: they count as read before the change, which is announced below.
        state.app.forget_catalogue();
    }
    let mut response = state.schema_for(introspection).execute(request).await;
    if changes {
        state.app.catalogue_changed();
    }
    let executed = errors::label_response(&mut response);
    let ok = response.errors.is_empty();
    let rendered = render(media, response, executed);
    if read.is_private() {
        // One person's answer (a guest cart by its token): neither kept nor public.
        return with_cache_policy(headers, rendered, "bypass", None);
    }
    match cache_key {
        Some(key) if ok => {
            cache.put(key, stamp, &read, rendered.clone());
            policy(rendered, "miss", true)
        }
        _ => policy(rendered, "bypass", ok),
    }
}

/// `Cache-Control` for a GraphQL answer: public lifetimes, an ETag and 304 on a matching
/// `If-None-Match` for anonymous GET queries that succeeded (`public`), `private, no-store`
/// for everything else. `Vary` names what changes the answer.
fn with_cache_policy(
    request: &HeaderMap,
    rendered: Cached,
    source: &'static str,
    public: Option<&crate::config::GraphqlSettings>,
) -> Response {
    let Some(settings) = public else {
        let mut response = cached_response(rendered, source);
        let headers = response.headers_mut();
        headers.insert(header::VARY, HeaderValue::from_static(VARY));
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
        return response;
    };
    // Weak: the same answer may travel gzip- or zstd-encoded, byte-different but equivalent.
    let tag = format!("\"{}\"", &crate::tokens::hash_bytes(&rendered.body)[..32]);
    let etag = format!("W/{tag}");
    let matches = super::if_none_match(request, &tag);
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        cached_response(rendered, source)
    };
    let control = format!(
        "public, max-age={}, s-maxage={}, stale-while-revalidate={}",
        settings.public_max_age_secs,
        settings.public_shared_max_age_secs,
        settings.public_stale_secs
    );
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static(VARY));
    if let Ok(value) = HeaderValue::from_str(&control) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    response
}

/// What changes a GraphQL answer besides the URL.
const VARY: &str = "Accept, Accept-Language, Authorization";

/// Writes a rendered response with an `x-cache` header saying where it came from.
fn cached_response(rendered: Cached, source: &'static str) -> Response {
    let mut http = (
        StatusCode::from_u16(rendered.status).unwrap_or(StatusCode::OK),
        rendered.body,
    )
        .into_response();
    let headers = http.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(rendered.content_type),
    );
    headers.insert("x-cache", HeaderValue::from_static(source));
    http
}

/// The type of the operation that will run, if the document names one unambiguously.
pub(crate) fn operation_kind(
    document: &async_graphql::parser::types::ExecutableDocument,
    name: Option<&str>,
) -> Option<OperationType> {
    use async_graphql::parser::types::DocumentOperations;
    match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty)
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// Renders a GraphQL response. Request errors (nothing executed) omit `data` and, under
/// `application/graphql-response+json`, answer 400.
fn render(media: Media, response: GqlResponse, executed: bool) -> Cached {
    for err in &response.errors {
        let code = err
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .map(|c| c.to_string().trim_matches('"').to_owned())
            .unwrap_or_else(|| "NONE".into());
        metrics::counter!("graphql_errors_total", "code" => code).increment(1);
    }
    /// The answer as written: straight from async-graphql's values, with no copy between.
    #[derive(serde::Serialize)]
    struct Body<'a> {
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        errors: &'a [async_graphql::ServerError],
        #[serde(skip_serializing_if = "Option::is_none")]
        data: Option<&'a async_graphql::Value>,
        #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        extensions: &'a std::collections::BTreeMap<String, async_graphql::Value>,
    }
    let body = serde_json::to_vec(&Body {
        errors: &response.errors,
        data: executed.then_some(&response.data),
        extensions: &response.extensions,
    })
    .unwrap_or_else(|_| br#"{"errors":[{"message":"internal server error"}]}"#.to_vec());
    let status = if !executed && media == Media::GraphqlResponseJson {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Cached {
        status: status.as_u16(),
        content_type: media.content_type_str(),
        body: body.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Option<Media> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_str(value).expect("header"),
        );
        Media::negotiate(&headers)
    }

    #[test]
    fn negotiates_media_types() {
        assert_eq!(Media::negotiate(&HeaderMap::new()), Some(Media::Json));
        assert_eq!(accept("application/json"), Some(Media::Json));
        assert_eq!(accept("*/*"), Some(Media::Json));
        assert_eq!(
            accept("application/graphql-response+json, application/json;q=0.9"),
            Some(Media::GraphqlResponseJson)
        );
        assert_eq!(
            accept("application/graphql-response+json;q=0, application/json"),
            Some(Media::Json)
        );
        assert_eq!(accept("text/html"), None);
    }
}
