//! Gives every error that async-graphql itself produces a stable `extensions.code`, so
//! clients never see a code-less error and mistake their own mistake for a server fault.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use async_graphql::{
    Response, ServerError, ServerResult, ValidationResult, Value, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextSubscribe,
        NextValidation,
    },
    parser::types::ExecutableDocument,
};
use futures_util::{StreamExt, stream::BoxStream};

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

/// Put into a request's data; set once execution starts, so the transport can tell request
/// errors (HTTP 400 under `application/graphql-response+json`) from field errors.
#[derive(Clone, Default)]
pub struct Executed(Arc<AtomicBool>);

impl Executed {
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodesExtension)
    }
}

struct ErrorCodesExtension;

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

/// Execution errors: what async-graphql reports about coercing the client's values is
/// labelled BAD_USER_INPUT by `label`; anything else without a code did not come through
/// `AppError` and is a failure of ours, logged and shown only as an internal error.
fn label_response(mut response: Response) -> Response {
    for err in &mut response.errors {
        let coded = err
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .is_some();
        let client_value =
            err.message.starts_with("Invalid value for argument ") || is_coercion(&err.message);
        if !coded && !client_value {
            tracing::error!(error = %err.message, path = ?err.path, "uncoded execution error");
            err.message = "internal server error".into();
            err.source = None;
        }
        label(err, INTERNAL_SERVER_ERROR);
    }
    response
}

#[async_graphql::async_trait::async_trait]
impl Extension for ErrorCodesExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables).await.map_err(|mut err| {
            label(&mut err, PARSE_FAILED);
            err
        })
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|mut errors| {
            for err in &mut errors {
                label(err, VALIDATION_FAILED);
            }
            errors
        })
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if let Some(executed) = ctx.data_opt::<Executed>() {
            executed.0.store(true, Ordering::Relaxed);
        }
        // What is still unlabelled here came from coercing values at execution time.
        label_response(next.run(ctx, operation_name).await)
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream).map(label_response).boxed()
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{Response, ServerError, Value};

    use super::label_response;

    fn code(err: &ServerError) -> Option<&Value> {
        err.extensions.as_ref().and_then(|e| e.get("code"))
    }

    #[test]
    fn uncoded_execution_errors_are_internal_and_hide_their_cause() {
        let response = label_response(Response::from_errors(vec![
            ServerError::new(
                "error returned from database: relation \"x\" does not exist",
                None,
            ),
            ServerError::new(
                "Invalid value for argument \"input.age\", expected Int",
                None,
            ),
        ]));
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
}
