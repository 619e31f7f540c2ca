//! GraphQL multipart requests (github.com/jaydenseric/graphql-multipart-request-spec):
//! `operations`, then `map`, then the files, each read as it streams in and refused the moment
//! it passes the upload limit. A browser can send `multipart/form-data` across sites without
//! a CORS preflight, so the request must carry a header that forces one.

use std::collections::{HashMap, HashSet};

use async_graphql::UploadValue;
use axum::{
    body::Body,
    http::{HeaderMap, StatusCode, header},
    response::Response,
};
use serde_json::Value;

use super::graphql::{Media, execute, request_error, request_from_params};

/// Headers that a cross-site form cannot send and that therefore force a CORS preflight.
pub const PREFLIGHT_HEADERS: [&str; 3] = [
    "apollo-require-preflight",
    "graphql-preflight",
    "x-apollo-operation-name",
];

/// Files one request may carry.
const MAX_FILES: usize = 10;
/// `operations` and `map` are small JSON documents.
const MAX_JSON_PART: usize = 256 * 1024;

pub fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        })
}

/// Why a multipart request was refused: status, code and message.
struct Refusal(StatusCode, &'static str, String);

fn bad(message: impl Into<String>) -> Refusal {
    Refusal(StatusCode::BAD_REQUEST, "BAD_REQUEST", message.into())
}

impl From<multer::Error> for Refusal {
    fn from(err: multer::Error) -> Self {
        match err {
            multer::Error::FieldSizeExceeded { limit, .. }
            | multer::Error::StreamSizeExceeded { limit } => Refusal(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                format!("a part is larger than the {limit} bytes accepted"),
            ),
            other => bad(format!("the multipart body could not be read: {other}")),
        }
    }
}

/// `POST /graphql` with a multipart body.
pub async fn post(
    state: &super::HttpState,
    headers: &HeaderMap,
    media: Media,
    body: Body,
    client: Option<String>,
) -> Response {
    let preflighted = PREFLIGHT_HEADERS
        .iter()
        .any(|name| headers.get(*name).is_some_and(|v| !v.is_empty()));
    if !preflighted {
        return request_error(
            media,
            StatusCode::BAD_REQUEST,
            "PREFLIGHT_REQUIRED",
            "multipart requests must carry an Apollo-Require-Preflight (or GraphQL-Preflight) \
             header, so that browsers check with this server before sending them",
        );
    }
    match read(state, headers, body).await {
        Ok(request) => execute(state, headers, media, request, client, false).await,
        Err(Refusal(status, code, message)) => request_error(media, status, code, &message),
    }
}

async fn read(
    state: &super::HttpState,
    headers: &HeaderMap,
    body: Body,
) -> Result<async_graphql::Request, Refusal> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let boundary = multer::parse_boundary(content_type)
        .map_err(|_| bad("the multipart content type has no boundary"))?;
    let max_file = state.app.settings.media.max_upload_bytes;
    let limits = multer::SizeLimit::new()
        .for_field("operations", MAX_JSON_PART as u64)
        .for_field("map", MAX_JSON_PART as u64)
        .per_field(max_file)
        .whole_stream(max_file * MAX_FILES as u64 + 2 * MAX_JSON_PART as u64);
    let mut multipart = multer::Multipart::with_constraints(
        body.into_data_stream(),
        boundary,
        multer::Constraints::new().size_limit(limits),
    );

    let operations = match multipart.next_field().await? {
        Some(field) if field.name() == Some("operations") => field.bytes().await?,
        _ => return Err(bad("the first part must be `operations`")),
    };
    let mut request = match serde_json::from_slice::<Value>(&operations) {
        Ok(Value::Object(params)) => request_from_params(params).map_err(bad)?,
        Ok(Value::Array(_)) => return Err(bad("batched requests are not supported")),
        _ => return Err(bad("`operations` must be a JSON object")),
    };
    let map = match multipart.next_field().await? {
        Some(field) if field.name() == Some("map") => field.bytes().await?,
        _ => return Err(bad("the second part must be `map`")),
    };
    let map = file_map(&map)?;

    let mut seen = HashSet::new();
    while let Some(mut field) = multipart.next_field().await? {
        let name = field.name().unwrap_or("").to_owned();
        let Some(paths) = map.get(&name) else {
            return Err(bad(format!("the part {name:?} is not named in `map`")));
        };
        if !seen.insert(name.clone()) {
            return Err(bad(format!("the part {name:?} is sent twice")));
        }
        let filename = field.file_name().unwrap_or("").to_owned();
        let declared = field.content_type().map(|m| m.to_string());
        // Read chunk by chunk so a file over the limit is refused as soon as it passes it.
        let mut content = Vec::new();
        while let Some(chunk) = field.chunk().await? {
            if (content.len() + chunk.len()) as u64 > max_file {
                return Err(Refusal(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "PAYLOAD_TOO_LARGE",
                    format!("the file {filename:?} is larger than the {max_file} bytes accepted"),
                ));
            }
            content.extend_from_slice(&chunk);
        }
        let content = bytes::Bytes::from(content);
        for path in paths {
            request.set_upload(
                path,
                UploadValue {
                    filename: filename.clone(),
                    content_type: declared.clone(),
                    content: content.clone(),
                },
            );
        }
    }
    if let Some(missing) = map.keys().find(|k| !seen.contains(*k)) {
        return Err(bad(format!(
            "the file part {missing:?} named in `map` is missing"
        )));
    }
    Ok(request)
}

/// Reads `map`: each file part's name to the variable paths it fills. A path filled by two
/// files is refused rather than one silently winning.
fn file_map(bytes: &[u8]) -> Result<HashMap<String, Vec<String>>, Refusal> {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(bytes) else {
        return Err(bad("`map` must be a JSON object"));
    };
    if map.len() > MAX_FILES {
        return Err(bad(format!("at most {MAX_FILES} files per request")));
    }
    let mut out = HashMap::new();
    let mut targets = HashSet::new();
    for (name, paths) in map {
        let Value::Array(paths) = paths else {
            return Err(bad("`map` values must be arrays of variable paths"));
        };
        let mut list = Vec::new();
        for path in paths {
            let Value::String(path) = path else {
                return Err(bad("`map` paths must be strings"));
            };
            if !path.starts_with("variables.") {
                return Err(bad(format!("{path:?} is not a path into `variables`")));
            }
            if !targets.insert(path.clone()) {
                return Err(bad(format!("two files are mapped to {path}")));
            }
            list.push(path);
        }
        if list.is_empty() {
            return Err(bad(format!("the file {name:?} is mapped to nothing")));
        }
        out.insert(name, list);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variable_takes_one_file() {
        assert!(file_map(br#"{"0":["variables.input.file"]}"#).is_ok());
        assert!(file_map(br#"{"0":["variables.a"],"1":["variables.a"]}"#).is_err());
        assert!(file_map(br#"{"0":["query"]}"#).is_err());
        assert!(file_map(br#"{"0":[]}"#).is_err());
        assert!(file_map(br#"["variables.a"]"#).is_err());
    }
}
