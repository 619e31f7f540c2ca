//! The GraphQL kit every domain's GraphQL layer uses: money, ids, the language and currency a
//! response reads in, the caller's address, typed request data, pagination, error codes and
//! the request guard. Core: it names no domain.

pub mod errors;
pub mod guard;
pub mod loaders;
pub mod pagination;

use std::sync::Arc;

use async_graphql::{Context, ID, SimpleObject};
use uuid::Uuid;

use crate::{
    auth::{Caller, CallerExt},
    error::{AppError, AppResult},
    i18n::LanguageTag,
    money::{Currency, Money as MoneyValue},
};

/// The client's network address, for throttling; `None` when unknown.
#[derive(Debug, Clone)]
pub struct ClientAddress(pub Option<String>);

/// The client's `User-Agent`, to tell robots' visits from buyers'; `None` when not sent.
#[derive(Debug, Clone)]
pub struct UserAgent(pub Option<String>);

impl UserAgent {
    pub fn from_headers(headers: &axum::http::HeaderMap) -> Self {
        Self(
            headers
                .get(axum::http::header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.chars().take(512).collect()),
        )
    }
}

/// Something every request carries in its data (loaders, the state); a missing one is a
/// wiring fault of ours, not the client's.
pub fn data<'a, T: std::any::Any + Send + Sync>(ctx: &Context<'a>) -> AppResult<&'a T> {
    ctx.data::<T>().map_err(|_| {
        AppError::Internal(anyhow::anyhow!(
            "{} missing from the request",
            std::any::type_name::<T>()
        ))
    })
}

/// The languages the client asked for, from `Accept-Language`; put in each request's data.
#[derive(Debug, Clone, Default)]
pub struct AcceptLanguage(pub Vec<String>);

/// How a response should read: in which languages and currency, and for whom.
#[derive(Clone)]
pub struct View {
    pub languages: Arc<Vec<String>>,
    pub currency: Option<Currency>,
    pub caller: Caller,
}

impl View {
    /// From a field's `language` and `currency` arguments; the language falls back to the
    /// request's languages.
    pub fn new(
        ctx: &Context<'_>,
        language: Option<String>,
        currency: Option<String>,
    ) -> AppResult<Self> {
        // The argument first, then what the request reads in (see `graphql::per_request`).
        let mut languages = match language {
            Some(l) => vec![
                LanguageTag::parse_field("language", &l)?
                    .as_str()
                    .to_owned(),
            ],
            None => Vec::new(),
        };
        if let Some(requested) = ctx.data_opt::<AcceptLanguage>() {
            for language in &requested.0 {
                if !languages.contains(language) {
                    languages.push(language.clone());
                }
            }
        }
        let currency = currency
            .map(|c| Currency::parse_field("currency", &c))
            .transpose()?;
        Ok(Self {
            languages: Arc::new(languages),
            currency,
            caller: ctx.caller(),
        })
    }
}

impl View {
    /// `new` for root fields that show prices: a currency no rate reaches is refused once,
    /// here, before anything resolves, instead of leaving `Money!` fields null one by one.
    pub async fn priced(
        ctx: &Context<'_>,
        language: Option<String>,
        currency: Option<String>,
    ) -> AppResult<Self> {
        let view = Self::new(ctx, language, currency)?;
        if let (Some(to), Some(home)) = (view.currency, Currency::parse(crate::money::HOME)) {
            let rates = data::<loaders::RequestRates>(ctx)?.get().await?;
            if rates.rate(home, to).is_none() {
                return Err(AppError::invalid(
                    "currency",
                    format!(
                        "prices cannot be shown in {} yet: no exchange rate",
                        to.code()
                    ),
                ));
            }
        }
        Ok(view)
    }
}

/// An amount of money. Amounts are decimal strings because whole-tögrög prices overflow a
/// 32-bit GraphQL `Int`.
#[derive(SimpleObject, Clone)]
pub struct Money {
    /// Decimal amount with the currency's number of decimals, e.g. `"125000.00"` or `"1500"`.
    pub amount: String,
    /// ISO 4217 currency code, e.g. `MNT`, `USD`, `JPY`.
    pub currency_code: String,
}

impl From<MoneyValue> for Money {
    fn from(m: MoneyValue) -> Self {
        Self {
            amount: m.amount(),
            currency_code: m.currency.code().to_owned(),
        }
    }
}

/// `money` in the view's currency (or as it is when none was asked for).
pub async fn display(ctx: &Context<'_>, view: &View, money: MoneyValue) -> AppResult<Money> {
    let Some(to) = view.currency else {
        return Ok(money.into());
    };
    let rates = data::<loaders::RequestRates>(ctx)?.get().await?;
    rates.convert(money, to).map(Money::from).ok_or_else(|| {
        AppError::invalid(
            "currency",
            format!(
                "no exchange rate from {} to {}",
                money.currency.code(),
                to.code()
            ),
        )
    })
}

/// Whether the client selected `totalCount` on the connection being resolved.
pub fn wants_total(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

/// Reads a GraphQL `ID` as a UUID, naming the field on failure.
pub fn uuid(field: &'static str, id: &ID) -> AppResult<Uuid> {
    Uuid::parse_str(id.as_str()).map_err(|_| AppError::invalid(field, "not a valid id"))
}

/// Reads a list of GraphQL `ID`s as UUIDs, naming the field on failure.
pub fn uuids(field: &'static str, ids: &[ID]) -> AppResult<Vec<Uuid>> {
    ids.iter().map(|id| uuid(field, id)).collect()
}

/// An input that may be set, cleared (null) or left out: `None` when left out,
/// `Some(None)` when null, `Some(Some(read(v)))` when set.
pub fn maybe<T, U>(
    value: &async_graphql::MaybeUndefined<T>,
    read: impl Fn(&T) -> AppResult<U>,
) -> AppResult<Option<Option<U>>> {
    use async_graphql::MaybeUndefined;
    Ok(match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(read(v)?)),
    })
}
