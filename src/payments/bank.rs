//! Bank transfers: what the buyer pays into, the admins' list of transfers awaiting money,
//! and what happens when the money arrives: on time (paid), after the window (the orders
//! reinstated if their stock can be taken again), or not at all usable (sent back).

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Select, sea_query::Query,
};
use uuid::Uuid;

use super::{collect, records};
use crate::{
    auth::CurrentUser,
    config::BankDetails,
    entities::{
        checkouts,
        orders::{self, OrderStatus},
        payments::PaymentStatus,
        users::Role,
    },
    error::{AppError, AppResult},
    orders::{expiry, lifecycle, reference, state::Party},
    state::AppState,
};

/// What a bank-transfer buyer needs to pay: the account, the exact amount and the reference
/// to quote, and until when.
#[derive(Debug, Clone)]
pub struct Instructions {
    pub details: BankDetails,
    pub reference: String,
    pub amount_minor: i64,
    pub currency: String,
    pub pay_by: DateTime<Utc>,
}

/// The instructions of a bank-transfer checkout, in `language` (else English); `None` for
/// card checkouts. `pay_by` is its orders' expiry: they are placed together with one window.
pub fn instructions(
    state: &AppState,
    checkout: &checkouts::Model,
    pay_by: DateTime<Utc>,
    language: &str,
) -> Option<Instructions> {
    let reference = checkout.payment_reference.clone()?;
    let details = state.settings.bank_transfer.details_in(language)?;
    Some(Instructions {
        details: details.clone(),
        reference,
        amount_minor: checkout.total_minor,
        currency: checkout.currency.clone(),
        pay_by,
    })
}

/// Whether an order's window closed (or its buyer cancelled it) before it was ever paid: what
/// late money may reinstate or must be sent back for.
fn cancelled_unpaid(order: &orders::Model) -> bool {
    order.status == OrderStatus::Cancelled && order.paid_at.is_none()
}

/// Refuses a second payment record for a checkout.
async fn no_payment_yet(db: &impl ConnectionTrait, checkout: &checkouts::Model) -> AppResult<()> {
    if records::of_checkout(db, checkout.id).await?.is_some() {
        return Err(AppError::Conflict(
            "a payment is already recorded for this checkout".into(),
        ));
    }
    Ok(())
}

/// The bank-transfer checkouts still waiting for money (some order PENDING_PAYMENT), or,
/// with `expired`, those whose window closed unpaid, which late money may still reinstate.
pub fn awaiting(caller: CurrentUser, expired: bool) -> AppResult<Select<checkouts::Entity>> {
    caller.require_role(&[Role::Admin])?;
    let status = if expired {
        OrderStatus::Cancelled
    } else {
        OrderStatus::PendingPayment
    };
    let mut orders = Query::select()
        .column(orders::Column::CheckoutId)
        .from(orders::Entity)
        .and_where(orders::Column::Status.eq(status))
        .to_owned();
    if expired {
        orders.and_where(orders::Column::PaidAt.is_null());
    }
    Ok(checkouts::Entity::find()
        .filter(checkouts::Column::PaymentMethod.eq("BANK_TRANSFER"))
        .filter(checkouts::Column::Id.in_subquery(orders)))
}

/// The orders of a checkout, oldest first.
pub async fn orders_of(db: &impl ConnectionTrait, checkout: Uuid) -> AppResult<Vec<orders::Model>> {
    Ok(orders::Entity::find()
        .filter(orders::Column::CheckoutId.eq(checkout))
        .order_by_asc(orders::Column::Id)
        .all(db)
        .await?)
}

/// Which checkout an admin means: by id or by the reference the buyer quoted.
#[derive(Debug, Clone)]
pub enum TransferOf {
    Checkout(Uuid),
    Reference(String),
}

async fn checkout_of(db: &impl ConnectionTrait, of: &TransferOf) -> AppResult<checkouts::Model> {
    let found = match of {
        TransferOf::Checkout(id) => checkouts::Entity::find_by_id(*id).one(db).await?,
        TransferOf::Reference(text) => {
            let reference = reference::parse(text).ok_or_else(|| {
                AppError::invalid(
                    "paymentReference",
                    "this is not a payment reference (like DK-7F3K9Q); check it for typos",
                )
            })?;
            checkouts::Entity::find()
                .filter(checkouts::Column::PaymentReference.eq(reference))
                .one(db)
                .await?
        }
    };
    let checkout = found.ok_or_else(|| AppError::NotFound("no such checkout".into()))?;
    if checkout.payment_method != "BANK_TRANSFER" {
        return Err(AppError::Conflict(
            "this checkout is paid by card; Stripe confirms it".into(),
        ));
    }
    Ok(checkout)
}

/// What every admin action on a transfer starts with: the admin check, the bank's reference
/// checked, a write transaction and the checkout meant.
async fn open<'r>(
    state: &AppState,
    caller: CurrentUser,
    of: &TransferOf,
    bank_ref: &'r str,
) -> AppResult<(sea_orm::DatabaseTransaction, checkouts::Model, &'r str)> {
    caller.require_role(&[Role::Admin])?;
    let bank_ref = bank_ref.trim();
    if bank_ref.is_empty() || bank_ref.chars().count() > 200 {
        return Err(AppError::invalid(
            "reference",
            "the bank reference is required (at most 200 characters)",
        ));
    }
    let txn = crate::db::begin_write(&state.db).await?;
    let checkout = checkout_of(&txn, of).await?;
    Ok((txn, checkout, bank_ref))
}

/// Records that a transfer arrived in time: every order of its checkout becomes PAID and the
/// shops' ledgers are credited, in one transaction. Admins only. Money for orders whose
/// window already closed is refused (`CONFLICT`) naming the way forward: reinstate or send
/// it back.
pub async fn confirm(
    state: &AppState,
    caller: CurrentUser,
    of: TransferOf,
    bank_ref: &str,
) -> AppResult<Vec<orders::Model>> {
    let (txn, checkout, bank_ref) = open(state, caller, &of, bank_ref).await?;
    let orders = orders_of(&txn, checkout.id).await?;
    if orders.iter().any(cancelled_unpaid) {
        return Err(AppError::Conflict(
            "orders of this checkout were cancelled (their payment window closed, or the buyer \
             cancelled them) and cannot become PAID; reinstate them with reinstateBankTransfer \
             if their stock is still there, or send the money back with returnBankTransfer"
                .into(),
        ));
    }
    let note = format!("bank transfer {bank_ref}");
    let paid =
        collect::pay_checkout_in(&txn, checkout.id, Party::Admin, Some(caller.id), note).await?;
    records::record_bank_transfer(&txn, &checkout, bank_ref, PaymentStatus::Succeeded).await?;
    txn.commit().await?;
    for order in &paid {
        lifecycle::published(state, order).await;
    }
    Ok(paid)
}

/// Money arrived after the window: the expired orders take their stock again (never
/// overselling: `OUT_OF_STOCK` and no change if any line is short) and are paid, all in one
/// transaction. Admins only.
pub async fn reinstate(
    state: &AppState,
    caller: CurrentUser,
    of: TransferOf,
    bank_ref: &str,
) -> AppResult<Vec<orders::Model>> {
    let (txn, checkout, bank_ref) = open(state, caller, &of, bank_ref).await?;
    no_payment_yet(&txn, &checkout).await?;
    let waiting = expiry::reinstate_in(&txn, &checkout, caller.id).await?;
    let note = format!("bank transfer {bank_ref}, after the window");
    let paid = collect::pay_orders_in(&txn, waiting, Party::Admin, Some(caller.id), note).await?;
    records::record_bank_transfer(&txn, &checkout, bank_ref, PaymentStatus::Succeeded).await?;
    txn.commit().await?;
    for order in &paid {
        lifecycle::published(state, order).await;
    }
    let ids: Vec<_> = paid.iter().map(|o| o.id).collect();
    lifecycle::stock_moved(state, &ids).await;
    Ok(paid)
}

/// Money arrived after the window and the orders cannot be reinstated: the admin records that
/// it was sent back to the buyer, with the bank's reference of the return. Admins only.
pub async fn send_back(
    state: &AppState,
    caller: CurrentUser,
    of: TransferOf,
    bank_ref: &str,
) -> AppResult<Vec<orders::Model>> {
    let (txn, checkout, bank_ref) = open(state, caller, &of, bank_ref).await?;
    let orders = orders_of(&txn, checkout.id).await?;
    if !orders.iter().all(cancelled_unpaid) {
        return Err(AppError::Conflict(
            "only a checkout whose orders all expired unpaid can have its transfer sent back"
                .into(),
        ));
    }
    no_payment_yet(&txn, &checkout).await?;
    records::record_bank_transfer(&txn, &checkout, bank_ref, PaymentStatus::Returned).await?;
    for order in &orders {
        lifecycle::record_event(
            &txn,
            order.id,
            Some(order.status),
            order.status,
            Some(caller.id),
            Some(format!(
                "late bank transfer sent back to the buyer ({bank_ref})"
            )),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(orders)
}
