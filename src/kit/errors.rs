//! Gives every error that async-graphql itself produces a stable `extensions.code`, so
//! clients never see a code-less error and mistake their own mistake for a server fault.

use async_graphql::{Response, ServerError, Value};

/// The document could not be parsed.
pub const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
/// The document does not fit the schema, or exceeds depth or complexity limits.
pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
/// The document or its variables nest deeper than the server allows.
pub const NESTING_TOO_DEEP: &str = "NESTING_TOO_DEEP";
/// Something failed on our side; the cause is logged, never shown.
pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";
/// A value given by the client is not acceptable.
pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";

/// Sets `code` (and `field` for bad arguments) where none is set.
fn label(err: &mut ServerError, default: &'static str) {
    if err
        .extensions
        .as_ref()
        .and_then(|e| e.get("code"))
        .is_some()
    {
        return;
    }
    let extensions = err.extensions.get_or_insert_with(Default::default);
    // async-graphql reports argument coercion failures as `Invalid value for argument
    // "input.age", ...`; those are the client's input, not the query's shape.
    if let Some(rest) = err.message.strip_prefix("Invalid value for argument ") {
        extensions.set("code", BAD_USER_INPUT);
        if let Some(field) = rest.strip_prefix('"').and_then(|r| r.split('"').next()) {
            // Mutations take one `input`; name fields within it, as service errors do.
            let field = field.strip_prefix("input.").unwrap_or(field);
            extensions.set("field", Value::String(field.to_owned()));
        }
    } else if is_coercion(&err.message) {
        // A value refused while being coerced: an Int beyond 32 bits, a bool for an object.
        extensions.set("code", BAD_USER_INPUT);
    } else {
        extensions.set("code", default);
    }
}

/// async-graphql's own words for a client value that does not fit its type
/// (`InputValueError::custom` and `::expected_type`).
fn is_coercion(message: &str) -> bool {
    message.starts_with("Failed to parse \"") || message.starts_with("Expected input type \"")
}

/// Gives every error of a finished response a code (see `label`) and tells whether the
/// operation executed: errors raised before execution (parsing, validation, coercing the
/// variables) carry no path, while every field error does. The transport answers the former
/// as a request error (HTTP 400 under `application/graphql-response+json`, no `data`).
///
/// This runs on the response rather than as an async-graphql extension because an installed
/// extension sends every field of every answer through the extension chain, with a registry
/// lookup and an allocation each: a fifth of an uncached catalogue page's CPU.
pub fn label_response(response: &mut Response) -> bool {
    let executed = response.errors.iter().all(|e| !e.path.is_empty());
    for err in &mut response.errors {
        let coded = err
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .is_some();
        if coded {
            continue;
        }
        let client_value =
            err.message.starts_with("Invalid value for argument ") || is_coercion(&err.message);
        let default = if !executed {
            if err.message.starts_with("The recursion depth of the query")
                || err
                    .message
                    .starts_with("The number of directives on the field")
            {
                PARSE_FAILED
            } else {
                VALIDATION_FAILED
            }
        } else {
            if !client_value {
                // Not through `AppError`: a failure of ours, logged and never shown.
                tracing::error!(error = %err.message, path = ?err.path, "uncoded execution error");
                err.message = "internal server error".into();
                err.source = None;
            }
            INTERNAL_SERVER_ERROR
        };
        label(err, default);
    }
    executed
}

#[cfg(test)]
mod tests {
    use async_graphql::{PathSegment, Response, ServerError, Value};

    use super::label_response;

    fn code(err: &ServerError) -> Option<&Value> {
        err.extensions.as_ref().and_then(|e| e.get("code"))
    }

    fn at(message: &str, path: &[&str]) -> ServerError {
        let mut err = ServerError::new(message, None);
        err.path = path
            .iter()
            .map(|p| PathSegment::Field((*p).to_owned()))
            .collect();
        err
    }

    #[test]
    fn uncoded_execution_errors_are_internal_and_hide_their_cause() {
        let mut response = Response::from_errors(vec![
            at(
                "error returned from database: relation \"x\" does not exist",
                &["products"],
            ),
            at(
                "Invalid value for argument \"input.age\", expected Int",
                &["updateProfile"],
            ),
        ]);
        assert!(label_response(&mut response), "field errors mean it ran");
        let internal = &response.errors[0];
        assert_eq!(internal.message, "internal server error");
        assert_eq!(code(internal), Some(&Value::from("INTERNAL_SERVER_ERROR")));
        let input = &response.errors[1];
        assert_eq!(code(input), Some(&Value::from("BAD_USER_INPUT")));
        assert_eq!(
            input.extensions.as_ref().and_then(|e| e.get("field")),
            Some(&Value::from("age"))
        );
    }

    #[test]
    fn errors_without_a_path_are_request_errors_and_keep_their_words() {
        let mut response = Response::from_errors(vec![
            at(r#"Unknown field "nope" on type "Query"."#, &[]),
            at(
                "The recursion depth of the query cannot be greater than `32`",
                &[],
            ),
            at(
                r#"Invalid value for argument "first", expected type "Int""#,
                &[],
            ),
        ]);
        assert!(!label_response(&mut response), "nothing ran");
        let codes: Vec<_> = response.errors.iter().map(code).collect();
        assert_eq!(
            codes,
            [
                Some(&Value::from("GRAPHQL_VALIDATION_FAILED")),
                Some(&Value::from("GRAPHQL_PARSE_FAILED")),
                Some(&Value::from("BAD_USER_INPUT")),
            ]
        );
        assert!(response.errors[0].message.contains("nope"));
        assert!(label_response(&mut Response::new(Value::Null)));
    }
}
