//! Exchange rates, set by admins and used to show prices in the buyer's currency.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};

use crate::{
    auth::CurrentUser,
    entities::{exchange_rates, products, users::Role},
    error::{AppError, AppResult},
    money::{Currency, Money, Rate, Rates},
    state::AppState,
};

pub use crate::money::HOME;

/// Every rate as stored, by base then quote.
pub async fn all(db: &impl ConnectionTrait) -> AppResult<Vec<exchange_rates::Model>> {
    use sea_orm::QueryOrder;
    Ok(exchange_rates::Entity::find()
        .order_by_asc(exchange_rates::Column::Base)
        .order_by_asc(exchange_rates::Column::Quote)
        .all(db)
        .await?)
}

/// A price in MNT minor units for sorting and price filters; products whose currency has no
/// rate sort last (`i64::MAX`) until one is set.
pub async fn sort_price(db: &impl ConnectionTrait, minor: i64, currency: &str) -> AppResult<i64> {
    if currency == HOME {
        return Ok(minor);
    }
    let rates = Rates::load(db).await?;
    Ok(sort_price_with(&rates, minor, currency))
}

pub(super) fn sort_price_with(rates: &Rates, minor: i64, currency: &str) -> i64 {
    let (Some(from), Some(home)) = (Currency::parse(currency), Currency::parse(HOME)) else {
        return i64::MAX;
    };
    rates
        .convert(Money::new(minor, from), home)
        .map_or(i64::MAX, |m| m.minor)
}

/// Sets how many `quote` one `base` buys, and re-prices the sort order of affected products.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn set_rate(
    state: &AppState,
    caller: CurrentUser,
    base: &str,
    quote: &str,
    rate: &str,
) -> AppResult<exchange_rates::Model> {
    caller.require_role(&[Role::Admin])?;
    let base = Currency::parse_field("base", base)?;
    let quote = Currency::parse_field("quote", quote)?;
    if base == quote {
        return Err(AppError::invalid("quote", "base and quote must differ"));
    }
    Rate::parse(rate).ok_or_else(|| {
        AppError::invalid(
            "rate",
            "a rate is a positive decimal with at most 12 decimals",
        )
    })?;
    let txn = crate::db::begin_write(&state.db).await?;
    let existing =
        exchange_rates::Entity::find_by_id((base.code().to_owned(), quote.code().to_owned()))
            .one(&txn)
            .await?;
    let row = exchange_rates::ActiveModel {
        base: Set(base.code().to_owned()),
        quote: Set(quote.code().to_owned()),
        rate: Set(rate.trim().to_owned()),
        updated_at: Set(Utc::now()),
    };
    let saved = match existing {
        Some(_) => row.update(&txn).await?,
        None => row.insert(&txn).await?,
    };
    // The inverse pair would now disagree; the newest word wins.
    exchange_rates::Entity::delete_many()
        .filter(exchange_rates::Column::Base.eq(quote.code()))
        .filter(exchange_rates::Column::Quote.eq(base.code()))
        .exec(&txn)
        .await?;
    let affected: Vec<uuid::Uuid> = products::Entity::find()
        .select_only()
        .column(products::Column::Id)
        .filter(products::Column::Currency.ne(HOME))
        .into_tuple()
        .all(&txn)
        .await?;
    super::sales::refresh_sort_prices(&txn, &affected).await?;
    txn.commit().await?;
    Ok(saved)
}
