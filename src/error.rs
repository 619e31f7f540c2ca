//! The service's one error type and its single mapping to GraphQL errors.

use async_graphql::ErrorExtensions;
use axum::{
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use sea_orm::{DbErr, SqlErr};

/// Anything a use case can fail with. Client-caused variants carry a message meant for the
/// client; `Db` and `Internal` are logged with their cause and shown only as a generic error.
///
/// Deliberately not `Display`: async-graphql turns any `Display` type into an error without
/// a code, so `?` in a resolver must go through the `From` below, which sets the code.
#[derive(Debug)]
pub enum AppError {
    NotFound(String),
    Unauthenticated(String),
    Forbidden(String),
    Invalid {
        field: &'static str,
        message: String,
    },
    Conflict(String),
    TooManyRequests {
        retry_after_secs: u64,
    },
    /// A business rule refused the request with its own code, e.g. `OUT_OF_STOCK`,
    /// `SHIPPING_UNAVAILABLE`, `PAYMENT_METHOD_UNAVAILABLE`.
    Refused {
        code: &'static str,
        message: String,
        /// What the client can act on, e.g. `variantId`, `sku`, `shopId`; sent as extensions.
        details: Vec<(&'static str, String)>,
    },
    Db(DbErr),
    Internal(anyhow::Error),
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        Self::Db(err)
    }
}

impl From<anyhow::Error> for AppError {
    fn from(err: anyhow::Error) -> Self {
        Self::Internal(err)
    }
}

/// Result of service functions.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// A bad value in the named input field.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }

    /// A business rule's refusal with its own code.
    pub fn refused(code: &'static str, message: impl Into<String>) -> Self {
        Self::Refused {
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    /// Adds an extension naming what the refusal is about (only to `Refused`).
    pub fn with_detail(mut self, key: &'static str, value: impl ToString) -> Self {
        if let Self::Refused { details, .. } = &mut self {
            details.push((key, value.to_string()));
        }
        self
    }

    /// What the client is told.
    pub fn message(&self) -> String {
        match self {
            Self::NotFound(m)
            | Self::Unauthenticated(m)
            | Self::Forbidden(m)
            | Self::Conflict(m)
            | Self::Invalid { message: m, .. }
            | Self::Refused { message: m, .. } => m.clone(),
            Self::TooManyRequests { retry_after_secs } => {
                format!("too many attempts; try again in {retry_after_secs} seconds")
            }
            Self::Db(_) | Self::Internal(_) => "internal server error".into(),
        }
    }

    /// For command-line tools, which may show the cause.
    pub fn into_anyhow(self) -> anyhow::Error {
        match self {
            Self::Db(err) => anyhow::Error::new(err),
            Self::Internal(err) => err,
            other => anyhow::anyhow!("{}", other.message()),
        }
    }

    /// The stable `extensions.code` clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "NOT_FOUND",
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::Invalid { .. } => "BAD_USER_INPUT",
            Self::Conflict(_) => "CONFLICT",
            Self::TooManyRequests { .. } => "TOO_MANY_REQUESTS",
            Self::Refused { code, .. } => code,
            Self::Db(_) | Self::Internal(_) => "INTERNAL_SERVER_ERROR",
        }
    }
}

/// Turns a unique-constraint violation into a `Conflict` with the given message, so callers
/// insert and let the database decide instead of racing on check-then-insert.
pub trait OnConflict<T> {
    fn on_conflict(self, message: &str) -> AppResult<T>;
}

impl<T> OnConflict<T> for Result<T, DbErr> {
    fn on_conflict(self, message: &str) -> AppResult<T> {
        self.map_err(|err| match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => AppError::Conflict(message.into()),
            _ => AppError::Db(err),
        })
    }
}

impl AppError {
    /// Logs what the client will not be shown: the cause of a database or internal error.
    /// Called once by each mapping below, inside the request's span (so with its request id).
    fn log_cause(&self) {
        match self {
            Self::Db(cause) => tracing::error!(error = %cause, debug = ?cause, "database error"),
            Self::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error");
            }
            _ => {}
        }
    }

    /// The HTTP status for routes outside GraphQL.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Invalid { .. } => StatusCode::BAD_REQUEST,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Refused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Db(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Plain HTTP routes (webhooks, and media and feeds to come) answer with the same codes and
/// the same body shape as GraphQL errors.
impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log_cause();
        let mut extensions = serde_json::Map::new();
        extensions.insert("code".into(), self.code().into());
        match &self {
            Self::Invalid { field, .. } => {
                extensions.insert("field".into(), (*field).into());
            }
            Self::TooManyRequests { retry_after_secs } => {
                extensions.insert("retryAfter".into(), (*retry_after_secs).into());
            }
            Self::Refused { details, .. } => {
                for (key, value) in details {
                    extensions.insert((*key).into(), value.clone().into());
                }
            }
            _ => {}
        }
        let body = serde_json::json!({ "errors": [{
            "message": self.message(),
            "extensions": extensions,
        }] });
        let mut response = (self.status(), axum::Json(body)).into_response();
        if let Self::TooManyRequests { retry_after_secs } = self
            && let Ok(value) = retry_after_secs.to_string().parse()
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        let code = err.code();
        err.log_cause();
        match &err {
            AppError::Db(_) | AppError::Internal(_) => {
                async_graphql::Error::new("internal server error")
                    .extend_with(|_, ext| ext.set("code", code))
            }
            AppError::Invalid { field, message } => async_graphql::Error::new(message.clone())
                .extend_with(|_, ext| {
                    ext.set("code", code);
                    ext.set("field", *field);
                }),
            AppError::Refused { details, .. } => async_graphql::Error::new(err.message())
                .extend_with(|_, ext| {
                    ext.set("code", code);
                    for (key, value) in details {
                        ext.set(*key, value.clone());
                    }
                }),
            AppError::TooManyRequests { retry_after_secs } => {
                async_graphql::Error::new(err.message()).extend_with(|_, ext| {
                    ext.set("code", code);
                    ext.set("retryAfter", *retry_after_secs);
                })
            }
            _ => {
                async_graphql::Error::new(err.message()).extend_with(|_, ext| ext.set("code", code))
            }
        }
    }
}
