//! Input objects of the payments GraphQL.

use async_graphql::{ID, InputObject};

/// Asking for a new client secret.
#[derive(InputObject)]
pub struct RetryPaymentInput {
    /// The checkout to pay.
    pub checkout_id: ID,
}

/// Refunding an order.
#[derive(InputObject)]
pub struct RefundOrderInput {
    /// The order.
    pub order_id: ID,
    /// Minor units of the order's currency; omitted refunds all that is left.
    pub amount_minor: Option<i64>,
    /// Why, for the order's history and the buyer.
    pub reason: Option<String>,
    /// For bank-transfer orders: the reference of the bank payment back to the buyer.
    pub reference: Option<String>,
}

/// Starting Stripe Connect onboarding.
#[derive(InputObject)]
pub struct StartPayoutOnboardingInput {
    /// Where Stripe sends the artisan when onboarding is done.
    pub return_url: String,
    /// Where Stripe sends the artisan when the link expired, to ask for a new one.
    pub refresh_url: String,
}

/// Paying a shop.
#[derive(InputObject)]
pub struct CreatePayoutInput {
    /// The shop to pay.
    pub shop_id: ID,
    /// The bank's reference: records a bank payout. Omitted: a Stripe transfer to the shop's
    /// connected account.
    pub reference: Option<String>,
}

/// Setting a shop's commission.
#[derive(InputObject)]
pub struct SetShopCommissionInput {
    /// The shop.
    pub shop_id: ID,
    /// Basis points (1000 = 10 %); null returns the shop to the platform default.
    pub basis_points: Option<i32>,
}

/// Clearing a payment review.
#[derive(InputObject)]
pub struct ResolvePaymentReviewInput {
    /// The checkout whose payment was flagged.
    pub checkout_id: ID,
    /// What was done about it, for the orders' history.
    pub note: String,
}

/// Which bank transfer an admin means, and the bank's reference of the money.
#[derive(InputObject)]
pub struct ConfirmManualPaymentInput {
    /// The checkout paid for; or give `paymentReference`.
    pub checkout_id: Option<ID>,
    /// The reference the buyer quoted, e.g. DK-7F3K9Q (any case, spaces and dashes allowed).
    pub payment_reference: Option<String>,
    /// The bank's own reference of the transfer, for the history.
    pub reference: String,
}

impl ConfirmManualPaymentInput {
    /// The checkout meant: by id, else by the buyer's payment reference.
    pub fn target(&self) -> async_graphql::Result<crate::payments::bank::TransferOf> {
        use crate::payments::bank::TransferOf;
        match (&self.checkout_id, &self.payment_reference) {
            (Some(id), _) => Ok(TransferOf::Checkout(crate::kit::uuid("checkoutId", id)?)),
            (None, Some(r)) => Ok(TransferOf::Reference(r.clone())),
            (None, None) => Err(crate::error::AppError::invalid(
                "paymentReference",
                "give the checkoutId or the paymentReference",
            )
            .into()),
        }
    }
}
