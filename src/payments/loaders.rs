//! Per-request batching of payment rows: checkouts by id, payments by checkout, refunds by
//! order.

use sea_orm::DatabaseConnection;

use crate::{
    entities::{checkouts, payments, refunds},
    kit::loaders::{Batch, by_column},
};

/// The payment loaders of one request.
pub struct PaymentLoaders {
    /// Checkouts by id.
    pub checkouts: Batch<checkouts::Entity>,
    /// Payments by checkout.
    pub payments: Batch<payments::Entity>,
    /// Refunds by order.
    pub refunds: Batch<refunds::Entity>,
}

impl PaymentLoaders {
    pub fn new(db: &DatabaseConnection) -> Self {
        Self {
            checkouts: by_column(
                db,
                checkouts::Column::Id,
                checkouts::Column::Id,
                |c: &checkouts::Model| c.id,
            ),
            payments: by_column(
                db,
                payments::Column::CheckoutId,
                payments::Column::Id,
                |p: &payments::Model| p.checkout_id,
            ),
            refunds: by_column(
                db,
                refunds::Column::OrderId,
                refunds::Column::Id,
                |r: &refunds::Model| r.order_id,
            ),
        }
    }
}
