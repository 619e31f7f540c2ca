//! Using a code: finding it for a buyer (guesses throttled), quoting its discount on a cart,
//! counting a use atomically when an order is placed, and giving the use back when every
//! order of that checkout is cancelled.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::rules::{self, LineDiscount, Offer, Refusal, Scope};
// The order rows are read through the entities (core), not the orders domain, which builds
// on this one.
use crate::entities::{
    collection_products,
    orders::{self, OrderStatus},
    promotion_codes::{self, DiscountKind},
    promotion_redemptions,
};
use crate::{
    error::{AppError, AppResult},
    money::{Currency, Money, Rates},
    state::AppState,
};

/// Finds the code a buyer typed. Every try counts against the buyer (or guest cart) and the
/// client address before the code is looked up, so a burst of guesses gets no more than the
/// allowance; a code that exists gives both tries back, so only failures are limited.
pub async fn find(
    state: &AppState,
    typed: &str,
    trier: &str,
    client: Option<&str>,
) -> AppResult<promotion_codes::Model> {
    let settings = &state.settings.promotions;
    let window = settings.failure_window_secs;
    let trier_key = format!("promo:{trier}");
    let client_key = client.map(|c| format!("promo-client:{c}"));
    let mut keys = vec![(trier_key.as_str(), settings.max_failures_per_buyer)];
    if let Some(key) = &client_key {
        keys.push((key.as_str(), settings.max_failures_per_client));
    }
    crate::throttle::attempt_all(&state.db, &keys, window).await?;
    let code = super::codes::normalise(typed);
    let found = promotion_codes::Entity::find()
        .filter(promotion_codes::Column::Code.eq(code.chars().take(40).collect::<String>()))
        .filter(promotion_codes::Column::Active.eq(true))
        .one(&state.db)
        .await?
        .ok_or_else(|| Refusal::Unknown.error())?;
    crate::throttle::give_back(&state.db, &trier_key).await?;
    if let Some(key) = &client_key {
        crate::throttle::give_back(&state.db, key).await?;
    }
    Ok(found)
}

/// The code's discount on each line, in the order given, or why it cannot be used. `buyer`
/// is `None` for a guest: their limits are checked once they sign in and check out.
pub async fn quote(
    db: &impl ConnectionTrait,
    code: &promotion_codes::Model,
    lines: &[rules::Line],
    currency: Currency,
    rates: &Rates,
    buyer: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<Result<Vec<LineDiscount>, Refusal>> {
    if let Err(refusal) = rules::check_period(code, now) {
        return Ok(Err(refusal));
    }
    if let Some(buyer) = buyer
        && let Err(refusal) = buyer_limits(db, code, buyer).await?
    {
        return Ok(Err(refusal));
    }
    let in_buyer_currency = |minor: i64| -> AppResult<i64> {
        let from = code
            .currency
            .as_deref()
            .and_then(Currency::parse)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("promotion without currency")))?;
        rates
            .convert(Money::new(minor, from), currency)
            .map(|m| m.minor)
            .ok_or_else(|| {
                AppError::invalid(
                    "currency",
                    format!(
                        "no exchange rate from {} to {}",
                        from.code(),
                        currency.code()
                    ),
                )
            })
    };
    let offer = match (code.kind, code.percent_off, code.amount_minor) {
        (DiscountKind::Percent, Some(p), _) => Offer::Percent(i64::from(p)),
        (DiscountKind::Fixed, _, Some(a)) => Offer::Fixed(in_buyer_currency(a)?),
        _ => {
            return Err(AppError::Internal(anyhow::anyhow!(
                "promotion without value"
            )));
        }
    };
    let minimum = code.min_subtotal_minor.map(in_buyer_currency).transpose()?;
    let scope = scope_of(db, code).await?;
    Ok(rules::allocate(offer, &scope, lines, minimum))
}

/// What the code is limited to, read from its rows.
async fn scope_of(db: &impl ConnectionTrait, code: &promotion_codes::Model) -> AppResult<Scope> {
    let categories = match code.category_id {
        Some(root) => {
            let all = crate::catalog::taxonomy::all_categories(db).await?;
            Some(crate::catalog::taxonomy::subtree(&all, root))
        }
        None => None,
    };
    let collection_products = match code.collection_id {
        Some(id) => Some(
            collection_products::Entity::find()
                .filter(collection_products::Column::CollectionId.eq(id))
                .all(db)
                .await?
                .into_iter()
                .map(|c| c.product_id)
                .collect(),
        ),
        None => None,
    };
    let products = super::codes::products_of(db, code.id).await?;
    Ok(Scope {
        shop: code.shop_id,
        categories,
        collection_products,
        products: (!products.is_empty()).then_some(products),
    })
}

/// The limits that depend on the buyer: uses per buyer and first order only.
async fn buyer_limits(
    db: &impl ConnectionTrait,
    code: &promotion_codes::Model,
    buyer: Uuid,
) -> AppResult<Result<(), Refusal>> {
    if let Some(max) = code.max_uses_per_buyer {
        let used = promotion_redemptions::Entity::find()
            .filter(promotion_redemptions::Column::PromotionId.eq(code.id))
            .filter(promotion_redemptions::Column::BuyerId.eq(buyer))
            .filter(promotion_redemptions::Column::ReleasedAt.is_null())
            .count(db)
            .await?;
        if used >= u64::try_from(max).unwrap_or(0) {
            return Ok(Err(Refusal::UsedUp));
        }
    }
    if code.first_order_only {
        let earlier = orders::Entity::find()
            .filter(orders::Column::BuyerId.eq(buyer))
            .filter(orders::Column::Status.ne(OrderStatus::Cancelled))
            .count(db)
            .await?;
        if earlier > 0 {
            return Ok(Err(Refusal::FirstOrderOnly));
        }
    }
    Ok(Ok(()))
}

/// Counts one use for a checkout, inside the transaction that places its orders and before
/// any of them is written. The conditional increment decides between racing buyers on both
/// databases (on PostgreSQL it also holds the code's row until the transaction ends, so the
/// per-buyer and first-order counts that follow are exact).
pub async fn redeem_in(
    db: &impl ConnectionTrait,
    code: &promotion_codes::Model,
    buyer: Uuid,
    checkout_id: Uuid,
) -> AppResult<()> {
    let mut counted = promotion_codes::Entity::update_many()
        .col_expr(
            promotion_codes::Column::Uses,
            Expr::col(promotion_codes::Column::Uses).add(1),
        )
        .filter(promotion_codes::Column::Id.eq(code.id))
        .filter(promotion_codes::Column::Active.eq(true));
    if let Some(max) = code.max_uses {
        counted = counted.filter(promotion_codes::Column::Uses.lt(i64::from(max)));
    }
    if counted.exec(db).await?.rows_affected != 1 {
        return Err(Refusal::UsedUp.error());
    }
    buyer_limits(db, code, buyer)
        .await?
        .map_err(Refusal::error)?;
    promotion_redemptions::ActiveModel {
        id: Set(Uuid::now_v7()),
        promotion_id: Set(code.id),
        checkout_id: Set(checkout_id),
        buyer_id: Set(buyer),
        created_at: Set(Utc::now()),
        released_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Gives a checkout's use back once every one of its orders is cancelled; call it in the
/// transaction that cancels an order. Released once, however many orders cancel.
pub async fn release_if_cancelled(db: &impl ConnectionTrait, checkout_id: Uuid) -> AppResult<()> {
    let live = orders::Entity::find()
        .filter(orders::Column::CheckoutId.eq(checkout_id))
        .filter(orders::Column::Status.ne(OrderStatus::Cancelled))
        .count(db)
        .await?;
    if live > 0 {
        return Ok(());
    }
    set_released(db, checkout_id, true).await
}

/// Takes a released use again for a checkout whose order was reinstated (its money arrived
/// after all). Limits are not checked: the buyer paid the discounted price already.
pub async fn reclaim(db: &impl ConnectionTrait, checkout_id: Uuid) -> AppResult<()> {
    set_released(db, checkout_id, false).await
}

/// Releases (or takes back) the checkout's use and moves the code's count with it; the
/// conditional update makes each happen once whoever races.
async fn set_released(
    db: &impl ConnectionTrait,
    checkout_id: Uuid,
    release: bool,
) -> AppResult<()> {
    // The redemptions in the state this call moves them from.
    let from = if release {
        promotion_redemptions::Column::ReleasedAt.is_null()
    } else {
        promotion_redemptions::Column::ReleasedAt.is_not_null()
    };
    let Some(redemption) = promotion_redemptions::Entity::find()
        .filter(promotion_redemptions::Column::CheckoutId.eq(checkout_id))
        .filter(from.clone())
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let moved = promotion_redemptions::Entity::update_many()
        .col_expr(
            promotion_redemptions::Column::ReleasedAt,
            Expr::value(release.then(Utc::now)),
        )
        .filter(promotion_redemptions::Column::Id.eq(redemption.id))
        .filter(from);
    if moved.exec(db).await?.rows_affected != 1 {
        return Ok(());
    }
    let uses = Expr::col(promotion_codes::Column::Uses);
    promotion_codes::Entity::update_many()
        .col_expr(
            promotion_codes::Column::Uses,
            if release { uses.sub(1) } else { uses.add(1) },
        )
        .filter(promotion_codes::Column::Id.eq(redemption.promotion_id))
        .exec(db)
        .await?;
    Ok(())
}
