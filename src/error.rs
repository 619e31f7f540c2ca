//! The service's one error type and its single mapping to GraphQL errors.

use async_graphql::ErrorExtensions;
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

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        let code = err.code();
        match &err {
            AppError::Db(cause) => {
                tracing::error!(error = %cause, debug = ?cause, "database error");
                async_graphql::Error::new("internal server error")
                    .extend_with(|_, ext| ext.set("code", code))
            }
            AppError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "internal error");
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
