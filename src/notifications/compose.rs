//! Turning an outbox row into the words its recipient reads: the facts of the order or
//! checkout it is about (amounts in the currency and at the rate the order locked, as
//! stored on it), the links, and the templates in the recipient's language.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{links, templates};
use crate::{
    entities::{checkouts, notifications, order_lines, orders, product_images, shops, users},
    error::{AppError, AppResult},
    money,
    outbox::Kind,
    state::AppState,
};

/// A message for one person, rendered.
#[derive(Debug, Clone)]
pub struct Message {
    pub to_name: String,
    pub to_email: String,
    pub rendered: templates::Rendered,
    /// The one-click unsubscribe address, for kinds the recipient may turn off.
    pub unsubscribe: Option<String>,
}

fn uuid_of(data: &Value, key: &str) -> Option<Uuid> {
    data.get(key)?.as_str()?.parse().ok()
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Renders the row for its recipient.
pub async fn compose(
    state: &AppState,
    row: &notifications::Model,
    recipient: &users::Model,
) -> AppResult<Message> {
    let kind = Kind::parse(&row.kind)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown kind {}", row.kind)))?;
    let data: Value = serde_json::from_str(&row.data).unwrap_or_else(|_| json!({}));
    let language = templates::language_for(&recipient.preferred_language);
    let shop_side = data.get("audience").and_then(Value::as_str) == Some("shop");
    let web = state.settings.public.web_base_url.trim_end_matches('/');
    let mut context = json!({
        "name": recipient.display_name,
        "audience": if shop_side { "shop" } else { "buyer" },
        "orders": [],
    });
    let mut link = format!("{web}/");
    if let Some(order_id) = uuid_of(&data, "order_id") {
        let order = order_facts(state, order_id, language, shop_side).await?;
        context["address"] = order.1;
        context["orders"] = json!([order.0.clone()]);
        context["order"] = order.0;
        link = if shop_side {
            format!("{web}/shop/orders/{order_id}")
        } else {
            format!("{web}/orders/{order_id}")
        };
        if let Some(url) = data.get("tracking_url").filter(|u| !u.is_null()) {
            context["order"]["tracking_url"] = url.clone();
            context["orders"][0]["tracking_url"] = url.clone();
        }
        if let Some(carrier) = data.get("carrier") {
            context["order"]["carrier"] = carrier.clone();
        }
    }
    if let Some(checkout_id) = uuid_of(&data, "checkout_id") {
        let (checkout, address, orders) =
            checkout_facts(state, checkout_id, language, shop_side).await?;
        context["checkout"] = checkout;
        context["address"] = address;
        if let Some(first) = orders.first() {
            context["order"] = first.clone();
        }
        context["orders"] = Value::Array(orders);
        link = format!("{web}/checkouts/{checkout_id}");
    }
    if let (Some(minor), Some(currency)) = (
        data.get("amount_minor").and_then(Value::as_i64),
        data.get("currency").and_then(Value::as_str),
    ) {
        context["amount"] = money::display(minor, currency, language).into();
    }
    for key in ["reason", "shop_name", "valid_hours"] {
        if let Some(v) = data.get(key) {
            context[key] = v.clone();
        }
    }
    let token = data.get("token").and_then(Value::as_str).unwrap_or("");
    link = match kind {
        Kind::VerifyEmail => format!("{web}/verify-email?token={token}"),
        Kind::PasswordReset => format!("{web}/reset-password?token={token}"),
        Kind::PayoutSent => format!("{web}/shop/finances"),
        Kind::ShopSuspended => format!("{web}/shop"),
        Kind::PaymentHeld => format!("{web}/admin/payments"),
        Kind::ReviewInvitation => format!("{link}/review"),
        _ => link,
    };
    context["link"] = link.into();
    let unsubscribe = kind
        .optional()
        .then(|| links::unsubscribe_url(state, recipient.id, kind));
    context["unsubscribe"] = json!(unsubscribe);
    let rendered = templates::render(kind, language, &context)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering {}: {e}", kind.as_str())))?;
    Ok(Message {
        to_name: recipient.display_name.clone(),
        to_email: recipient.email.clone(),
        rendered,
        unsubscribe,
    })
}

/// An order as its message shows it: the buyer sees their currency, the shop its own, both
/// as locked on the order. Returns the order and its shipping address.
async fn order_facts(
    state: &AppState,
    order_id: Uuid,
    language: &str,
    shop_side: bool,
) -> AppResult<(Value, Value)> {
    let order = orders::Entity::find_by_id(order_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such order".into()))?;
    describe(state, &order, language, shop_side).await
}

async fn describe(
    state: &AppState,
    order: &orders::Model,
    language: &str,
    shop_side: bool,
) -> AppResult<(Value, Value)> {
    let db = &state.db;
    let shop = shops::Entity::find_by_id(order.shop_id)
        .one(db)
        .await?
        .map(|s| s.name)
        .unwrap_or_default();
    let lines = order_lines::Entity::find()
        .filter(order_lines::Column::OrderId.eq(order.id))
        .order_by_asc(order_lines::Column::Position)
        .all(db)
        .await?;
    let (currency, subtotal, shipping, total) = if shop_side {
        (
            &order.shop_currency,
            order.shop_subtotal_minor,
            order.shop_shipping_minor,
            order.shop_total_minor,
        )
    } else {
        (
            &order.currency,
            order.subtotal_minor,
            order.shipping_minor,
            order.total_minor,
        )
    };
    let show = |minor: i64| money::display(minor, currency, language);
    let mut described = Vec::with_capacity(lines.len());
    for line in &lines {
        let unit = if shop_side {
            line.shop_unit_price_minor
        } else {
            line.unit_price_minor
        };
        let first = product_images::Entity::find()
            .filter(product_images::Column::ProductId.eq(line.product_id))
            .order_by_asc(product_images::Column::Position)
            .one(db)
            .await?;
        let image = match first {
            Some(photo) => crate::media::email_thumbnail(state, photo).await?,
            None => None,
        };
        described.push(json!({
            "title": if language == "en" { &line.title_en } else { &line.title },
            "quantity": line.quantity,
            "unit": show(unit),
            "total": show(unit * i64::from(line.quantity)),
            "image": image,
        }));
    }
    let address: Value = serde_json::from_str(&order.shipping_address).unwrap_or(Value::Null);
    Ok((
        json!({
            "id": order.id,
            "number": order.number,
            "shop": shop,
            "lines": described,
            "subtotal": show(subtotal),
            "shipping": show(shipping),
            "total": show(total),
            "carrier": order.carrier,
            "tracking_number": order.tracking_number,
        }),
        address,
    ))
}

/// A checkout with its orders, and for a bank transfer the account, reference and deadline.
async fn checkout_facts(
    state: &AppState,
    checkout_id: Uuid,
    language: &str,
    shop_side: bool,
) -> AppResult<(Value, Value, Vec<Value>)> {
    let db = &state.db;
    let checkout = checkouts::Entity::find_by_id(checkout_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such checkout".into()))?;
    let orders = orders::Entity::find()
        .filter(orders::Column::CheckoutId.eq(checkout.id))
        .order_by_asc(orders::Column::Number)
        .all(db)
        .await?;
    let mut described = Vec::with_capacity(orders.len());
    let mut address = Value::Null;
    for order in &orders {
        let (facts, a) = describe(state, order, language, shop_side).await?;
        described.push(facts);
        address = a;
    }
    let pay_by = orders.iter().map(|o| o.expires_at).min();
    let bank = state
        .settings
        .bank_transfer
        .details_in(language)
        .map(|d| json!(d));
    Ok((
        json!({
            "id": checkout.id,
            "orders": described,
            "total": money::display(checkout.total_minor, &checkout.currency, language),
            "method": checkout.payment_method,
            "reference": checkout.payment_reference,
            "pay_by": pay_by.map(when),
            "bank": bank,
        }),
        address,
        described,
    ))
}
