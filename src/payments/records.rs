//! Payment rows: one per checkout, card or bank transfer, written inside the transactions
//! that change them.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::{
    entities::{
        checkouts,
        payments::{self, PaymentStatus, Provider},
    },
    error::AppResult,
};

/// The payment of a checkout, if one was started.
pub async fn of_checkout(
    db: &impl ConnectionTrait,
    checkout_id: Uuid,
) -> AppResult<Option<payments::Model>> {
    Ok(payments::Entity::find()
        .filter(payments::Column::CheckoutId.eq(checkout_id))
        .one(db)
        .await?)
}

/// A new payment row for the whole checkout.
fn new_payment(
    checkout: &checkouts::Model,
    provider: Provider,
    provider_ref: &str,
    status: PaymentStatus,
) -> payments::ActiveModel {
    let now = Utc::now();
    payments::ActiveModel {
        id: Set(Uuid::now_v7()),
        checkout_id: Set(checkout.id),
        provider: Set(provider),
        provider_ref: Set(Some(provider_ref.to_owned())),
        amount_minor: Set(checkout.total_minor),
        currency: Set(checkout.currency.clone()),
        status: Set(status),
        failures: Set(0),
        last_error: Set(None),
        review_reason: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Records a bank transfer as the checkout's payment: received (`Succeeded`) or sent back
/// (`Returned`).
pub async fn record_bank_transfer(
    db: &impl ConnectionTrait,
    checkout: &checkouts::Model,
    reference: &str,
    status: PaymentStatus,
) -> AppResult<payments::Model> {
    let row = new_payment(checkout, Provider::BankTransfer, reference, status);
    Ok(row.insert(db).await?)
}

/// Records the checkout's card payment waiting for the buyer.
pub async fn record_card_intent(
    db: &impl ConnectionTrait,
    checkout: &checkouts::Model,
    intent: &str,
) -> Result<payments::Model, sea_orm::DbErr> {
    let row = new_payment(
        checkout,
        Provider::Stripe,
        intent,
        PaymentStatus::RequiresPayment,
    );
    row.insert(db).await
}
