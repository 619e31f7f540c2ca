//! Placing an order: one checkout, one order per shop, stock taken in the same transaction.

use chrono::{Datelike, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    Set,
};
use uuid::Uuid;

use super::{
    addresses,
    cart::{self, LineProblem, PricedCart},
};
use crate::{
    auth::CurrentUser,
    entities::{
        checkouts, order_lines,
        orders::{self, OrderStatus},
        promotion_codes,
        users::Role,
    },
    error::{AppError, AppResult, OnConflict},
    events::DomainEvent,
    money::Currency,
    state::AppState,
};

/// How the buyer pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentMethod {
    /// Bank transfer; an admin confirms receipt with `confirmManualPayment`.
    BankTransfer,
    /// Card through Stripe; the payload carries the PaymentIntent's client secret.
    Card,
}

impl PaymentMethod {
    /// As stored on the checkout.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BankTransfer => "BANK_TRANSFER",
            Self::Card => "CARD",
        }
    }
}

/// What `placeOrder` needs; prices are never among it.
#[derive(Debug, Clone)]
pub struct PlaceOrder {
    pub address_id: Uuid,
    pub currency: String,
    pub payment_method: PaymentMethod,
    pub idempotency_key: String,
    pub languages: Vec<String>,
}

/// Places the caller's cart. The same idempotency key returns the same checkout, whatever
/// the stock or the cart says by then; the same key with a different request is refused.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn place_order(
    state: &AppState,
    caller: CurrentUser,
    input: PlaceOrder,
) -> AppResult<checkouts::Model> {
    caller.require_role(&[Role::Buyer, Role::Artisan, Role::Admin, Role::Researcher])?;
    let key = input.idempotency_key.trim();
    if key.is_empty() || key.len() > 100 {
        return Err(AppError::invalid(
            "idempotencyKey",
            "an idempotency key is 1 to 100 characters",
        ));
    }
    let owner = cart::CartOwner::User(caller.id);
    let items = cart::items(&state.db, owner).await?;
    let code = cart::applied_code(&state.db, owner).await?;
    let digest = RequestDigest::of(&input, &items, code.as_ref().map(|c| c.code.as_str()));
    if let Some(existing) = existing_checkout(&state.db, caller.id, key).await? {
        return digest.answer(existing, items.is_empty());
    }
    let cart = CartToPlace {
        items: &items,
        code: code.as_ref(),
    };
    match place_new(state, caller, &input, key, cart, &digest).await {
        Ok(checkout) => Ok(checkout),
        // A retry racing the request that placed this key loses the stock or finds the cart
        // emptied; the key's checkout is its answer all the same.
        Err(err) => match existing_checkout(&state.db, caller.id, key).await? {
            Some(existing) => digest.answer(existing, items.is_empty()),
            None => Err(err),
        },
    }
}

/// What a placeOrder request asked for, as two digests: its parameters and its cart.
struct RequestDigest {
    params: String,
    cart: String,
}

impl RequestDigest {
    const HALF: usize = 32;

    fn of(input: &PlaceOrder, items: &[(Uuid, i32)], code: Option<&str>) -> Self {
        let params = format!(
            "{}|{}|{}",
            input.address_id,
            input.currency.trim().to_ascii_uppercase(),
            input.payment_method.as_str()
        );
        let mut lines: Vec<String> = items.iter().map(|(v, q)| format!("{v}:{q}")).collect();
        lines.sort();
        // The code is part of the cart: placing the order takes both away, so a retry after
        // success finds neither and is answered with the checkout all the same.
        let cart = format!("{}|{}", lines.join(","), code.unwrap_or_default());
        Self {
            params: half_digest(&params),
            cart: half_digest(&cart),
        }
    }

    fn stored(&self) -> String {
        format!("{}{}", self.params, self.cart)
    }

    /// The key's checkout when this request is the one it was placed with: the same
    /// parameters and the same cart, or an empty cart (placing it emptied the cart).
    fn answer(&self, existing: checkouts::Model, cart_empty: bool) -> AppResult<checkouts::Model> {
        let Some(stored) = existing.request_digest.as_deref() else {
            return Ok(existing);
        };
        let (params, cart) = stored.split_at(Self::HALF.min(stored.len()));
        if params == self.params && (cart == self.cart || cart_empty) {
            Ok(existing)
        } else {
            Err(AppError::refused(
                "IDEMPOTENCY_KEY_REUSED",
                "this idempotency key was used for a different order; send a new key",
            )
            .with_detail("field", "idempotencyKey"))
        }
    }
}

fn half_digest(text: &str) -> String {
    let mut hex = crate::tokens::hash(text);
    hex.truncate(RequestDigest::HALF);
    hex
}

/// The cart being placed: its lines and its promotion code.
#[derive(Clone, Copy)]
struct CartToPlace<'a> {
    items: &'a [(Uuid, i32)],
    code: Option<&'a promotion_codes::Model>,
}

async fn place_new(
    state: &AppState,
    caller: CurrentUser,
    input: &PlaceOrder,
    key: &str,
    cart: CartToPlace<'_>,
    digest: &RequestDigest,
) -> AppResult<checkouts::Model> {
    let items = cart.items;
    if input.payment_method == PaymentMethod::Card {
        // Refused before anything is written when no Stripe keys are configured.
        state.stripe()?;
    }
    let currency = Currency::parse_field("currency", &input.currency)?;
    let address = addresses::own(state, caller, input.address_id).await?;
    if items.is_empty() {
        return Err(AppError::refused(
            "EMPTY_CART",
            "the cart is empty; add items before placing an order",
        ));
    }
    let priced = cart::price(
        &state.db,
        items,
        cart::PriceFor {
            currency,
            country: Some(&address.country),
            languages: &input.languages,
            code: cart.code,
            buyer: Some(caller.id),
        },
    )
    .await?;
    check_buyable(&priced, &address.country)?;
    // The code is checked again now, for this buyer: its dates, limits and minimum.
    if let Some(refusal) = priced.promotion.as_ref().and_then(|p| p.refusal) {
        return Err(refusal.error());
    }
    let total = priced
        .total()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("total missing after shipping check")))?;
    let address_json = serde_json::to_string(&address).map_err(|e| AppError::Internal(e.into()))?;
    let channel = super::attribution::of_cart(&state.db, cart::CartOwner::User(caller.id)).await?;

    // Drawn before the write lock is taken; the unique index settles the rare race.
    let reference = match input.payment_method {
        PaymentMethod::BankTransfer => Some(new_reference(&state.db).await?),
        PaymentMethod::Card => None,
    };
    let txn = crate::db::begin_write(&state.db).await?;
    let now = Utc::now();
    // The key first: a concurrent request with the same key waits here on PostgreSQL until
    // this one ends, then fails on the unique index and answers with this checkout.
    let checkout = checkouts::ActiveModel {
        id: Set(Uuid::now_v7()),
        buyer_id: Set(caller.id),
        idempotency_key: Set(key.to_owned()),
        currency: Set(currency.code().to_owned()),
        total_minor: Set(total),
        payment_method: Set(input.payment_method.as_str().to_owned()),
        shipping_address: Set(address_json.clone()),
        request_digest: Set(Some(digest.stored())),
        payment_reference: Set(reference),
        reminded_at: Set(None),
        created_at: Set(now),
    }
    .insert(&txn)
    .await
    .on_conflict("this idempotency key is being used by another request; retry")?;
    // Counted before anything else is written: racing buyers queue on the code's row.
    if let Some(code) = cart.code {
        crate::promotions::redeem::redeem_in(&txn, code, caller.id, checkout.id).await?;
    }
    // The conditional update is what makes overselling impossible on both databases.
    for part in &priced.shops {
        for line in &part.lines {
            take_stock(&txn, line, part.shop.id).await?;
        }
    }
    let expires_at = now + payment_window(&state.settings.orders, input.payment_method);
    let mut placed = Vec::new();
    let mut placed_orders = Vec::new();
    for part in &priced.shops {
        let (_, shipping) = part
            .shipping
            .clone()
            .flatten()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("quote missing")))?;
        let shop_shipping = part
            .shipping
            .clone()
            .flatten()
            .map_or(0, |(q, _)| q.cost_minor);
        let order = orders::ActiveModel {
            id: Set(Uuid::now_v7()),
            checkout_id: Set(checkout.id),
            shop_id: Set(part.shop.id),
            buyer_id: Set(caller.id),
            number: Set(next_number(&txn).await?),
            status: Set(OrderStatus::PendingPayment),
            currency: Set(currency.code().to_owned()),
            subtotal_minor: Set(part.subtotal),
            shipping_minor: Set(shipping),
            total_minor: Set(part.paid_subtotal() + shipping),
            shop_currency: Set(part.shop.settlement_currency.clone()),
            shop_subtotal_minor: Set(part.shop_subtotal),
            shop_shipping_minor: Set(shop_shipping),
            shop_total_minor: Set(part.shop_subtotal - part.shop_discount + shop_shipping),
            exchange_rate: Set(part.rate.to_fraction()),
            rate_to_mnt: Set(part.to_mnt.map(|r| r.to_fraction())),
            rate_to_usd: Set(part.to_usd.map(|r| r.to_fraction())),
            shipping_address: Set(address_json.clone()),
            carrier: Set(None),
            tracking_number: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            expires_at: Set(expires_at),
            paid_at: Set(None),
            commission_bps: Set(crate::catalog::shops::commission_bps(
                &part.shop,
                state.settings.payments.commission_bps,
            )),
            refunded_minor: Set(0),
            delivered_at: Set(None),
            discount_minor: Set(part.discount),
            shop_discount_minor: Set(part.shop_discount),
            promotion_id: Set(cart.code.filter(|_| part.discount > 0).map(|c| c.id)),
            discount_funded_by: Set(cart
                .code
                .filter(|_| part.discount > 0)
                .map(|c| c.funded_by.as_str().to_owned())),
            utm_source: Set(channel.source.clone()),
            utm_medium: Set(channel.medium.clone()),
            utm_campaign: Set(channel.campaign.clone()),
            referrer: Set(channel.referrer.clone()),
        }
        .insert(&txn)
        .await?;
        placed.push(DomainEvent::OrderUpdated {
            order_id: order.id,
            buyer_id: order.buyer_id,
            shop_id: order.shop_id,
        });
        placed_orders.push((order.clone(), part.shop.owner_id));
        let lines =
            part.lines
                .iter()
                .enumerate()
                .map(|(position, line)| order_lines::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    order_id: Set(order.id),
                    product_id: Set(line.product.id),
                    variant_id: Set(line.variant.id),
                    title: Set(line.title.clone()),
                    title_en: Set(line.title_en.clone()),
                    sku: Set(line.variant.sku.clone()),
                    unit_price_minor: Set(line.unit),
                    shop_unit_price_minor: Set(line.shop_unit),
                    quantity: Set(line.quantity),
                    hs_code: Set(line.product.hs_code.clone()),
                    origin_country: Set(part.shop.country.clone()),
                    weight_grams: Set(line.product.weight_grams),
                    position: Set(position as i32),
                    discount_minor: Set(line.discount),
                    shop_discount_minor: Set(line.shop_discount),
                });
        // One statement per order: every statement here holds the write lock.
        order_lines::Entity::insert_many(lines)
            .exec_without_returning(&txn)
            .await?;
        let note = format!("placed, paying by {}", input.payment_method.as_str());
        super::lifecycle::record_event(
            &txn,
            order.id,
            None,
            OrderStatus::PendingPayment,
            Some(caller.id),
            Some(note),
        )
        .await?;
    }
    cart::clear(&txn, cart::CartOwner::User(caller.id)).await?;
    super::notices::placed(&txn, &checkout, &placed_orders).await?;
    txn.commit().await?;
    state.stock_changed(
        priced
            .shops
            .iter()
            .flat_map(|part| part.lines.iter().map(|line| line.product.id)),
    );
    for event in placed {
        state.events.publish(event).await;
    }
    Ok(checkout)
}

/// How long an unpaid order holds its stock: minutes for a card, days for a bank transfer,
/// which crosses borders slowly.
pub fn payment_window(settings: &crate::config::OrderSettings, method: PaymentMethod) -> Duration {
    match method {
        PaymentMethod::Card => Duration::minutes(settings.payment_window_minutes),
        PaymentMethod::BankTransfer => Duration::hours(settings.bank_transfer_window_hours),
    }
}

/// A payment reference no other checkout has. Five random symbols give 33 million; the few
/// collisions are drawn again.
async fn new_reference(db: &impl ConnectionTrait) -> AppResult<String> {
    for _ in 0..8 {
        let candidate = super::reference::generate();
        let taken = checkouts::Entity::find()
            .filter(checkouts::Column::PaymentReference.eq(&candidate))
            .one(db)
            .await?
            .is_some();
        if !taken {
            return Ok(candidate);
        }
    }
    Err(AppError::Internal(anyhow::anyhow!(
        "no free payment reference after 8 draws"
    )))
}

/// Refuses a cart that cannot be bought as priced, before anything is written.
fn check_buyable(priced: &PricedCart, country: &str) -> AppResult<()> {
    for part in &priced.shops {
        for line in &part.lines {
            match line.problem {
                Some(LineProblem::Unavailable) => {
                    return Err(AppError::Conflict(format!(
                        "{} is no longer available",
                        line.title
                    )));
                }
                Some(LineProblem::InsufficientStock) => {
                    return Err(out_of_stock(
                        format!(
                            "not enough of {} ({}) in stock",
                            line.title, line.variant.sku
                        ),
                        line,
                        part.shop.id,
                    ));
                }
                None => {}
            }
        }
        if !matches!(part.shipping, Some(Some(_))) {
            return Err(AppError::refused(
                "SHIPPING_UNAVAILABLE",
                format!("{} does not ship to {country}", part.shop.name),
            )
            .with_detail("shopId", part.shop.id)
            .with_detail("country", country));
        }
    }
    Ok(())
}

async fn existing_checkout(
    db: &impl ConnectionTrait,
    buyer: Uuid,
    key: &str,
) -> AppResult<Option<checkouts::Model>> {
    Ok(checkouts::Entity::find()
        .filter(checkouts::Column::BuyerId.eq(buyer))
        .filter(checkouts::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?)
}

/// `OUT_OF_STOCK` naming the line, so a client can point at it.
fn out_of_stock(message: String, line: &cart::PricedLine, shop: Uuid) -> AppError {
    AppError::refused("OUT_OF_STOCK", message)
        .with_detail("variantId", line.variant.id)
        .with_detail("sku", &line.variant.sku)
        .with_detail("shopId", shop)
}

/// Takes the line's units, or fails with `OUT_OF_STOCK` when fewer are left.
async fn take_stock(
    txn: &DatabaseTransaction,
    line: &cart::PricedLine,
    shop: Uuid,
) -> AppResult<()> {
    use crate::entities::product_variants;
    use sea_orm::sea_query::{Expr, ExprTrait};
    let taken = product_variants::Entity::update_many()
        .col_expr(
            product_variants::Column::Stock,
            Expr::col(product_variants::Column::Stock).sub(line.quantity),
        )
        .filter(product_variants::Column::Id.eq(line.variant.id))
        .filter(product_variants::Column::Stock.gte(line.quantity))
        .exec(txn)
        .await?
        .rows_affected;
    if taken == 1 {
        Ok(())
    } else {
        Err(out_of_stock(
            format!(
                "{} ({}) sold out while you were checking out",
                line.title, line.variant.sku
            ),
            line,
            shop,
        ))
    }
}

/// The next human order number of this year, `DK-2026-000123`: one upsert that counts and
/// answers, the same statement on both databases.
async fn next_number(txn: &DatabaseTransaction) -> AppResult<String> {
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
    let year = Utc::now().year();
    let (table, year_col, last) = (
        Alias::new("order_counters"),
        Alias::new("year"),
        Alias::new("last"),
    );
    let statement = Query::insert()
        .into_table(table.clone())
        .columns([year_col.clone(), last.clone()])
        .values_panic([year.into(), 1.into()])
        .on_conflict(
            OnConflict::column(year_col)
                .value(last.clone(), Expr::col((table, last.clone())).add(1))
                .to_owned(),
        )
        .returning_col(last)
        .to_owned();
    let row = txn
        .query_one(&statement)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("order counter missing")))?;
    let last: i64 = row.try_get("", "last")?;
    Ok(format!("DK-{year}-{last:06}"))
}
