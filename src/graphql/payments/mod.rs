//! GraphQL face of payments: card sessions, refunds, finances, payouts and reviews.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, TimeZone, Utc};

mod types;

pub use types::*;

use crate::payments::{ledger, payouts, refunds, reviews};
use crate::{
    auth::CallerExt,
    graphql::orders::Order,
    kit::{View, uuid},
    orders::state::Party,
    state::AppState,
};

/// A Stripe Connect onboarding link for the artisan.
#[derive(SimpleObject)]
pub struct PayoutOnboarding {
    /// The shop's connected account, `acct_…`.
    pub account_id: String,
    /// Send the artisan here; it works once.
    pub url: String,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

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

/// Result of `retryPayment`.
#[derive(SimpleObject)]
pub struct RetryPaymentPayload {
    /// The card payment to confirm.
    pub payment: CardPayment,
}

/// Result of `refundOrder`.
#[derive(SimpleObject)]
pub struct RefundOrderPayload {
    /// The refund.
    pub refund: Refund,
    /// The order after it.
    pub order: Order,
}

/// Result of `startPayoutOnboarding`.
#[derive(SimpleObject)]
pub struct StartPayoutOnboardingPayload {
    /// Where to send the artisan.
    pub onboarding: PayoutOnboarding,
}

/// Result of `createPayout`.
#[derive(SimpleObject)]
pub struct CreatePayoutPayload {
    /// The payout.
    pub payout: Payout,
}

/// Clearing a payment review.
#[derive(InputObject)]
pub struct ResolvePaymentReviewInput {
    /// The checkout whose payment was flagged.
    pub checkout_id: ID,
    /// What was done about it, for the orders' history.
    pub note: String,
}

/// Result of `resolvePaymentReview`.
#[derive(SimpleObject)]
pub struct ResolvePaymentReviewPayload {
    /// The payment, no longer flagged.
    pub payment: Payment,
}

/// Result of `setShopCommission`.
#[derive(SimpleObject)]
pub struct SetShopCommissionPayload {
    /// The shop's money, with the commission now in force for new orders.
    pub finances: ShopFinances,
}

#[derive(Default)]
pub struct PaymentQuery;

#[Object]
impl PaymentQuery {
    /// A shop's balance, ledger and payouts: the caller's own shop, or any shop for admins.
    async fn shop_finances(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shop; default the caller's own.")] shop_id: Option<ID>,
    ) -> Result<ShopFinances> {
        let state = ctx.data::<AppState>()?;
        let id = shop_id.map(|id| uuid("shopId", &id)).transpose()?;
        Ok(ShopFinances(
            ledger::finances_shop(&state.db, ctx.current_user()?, id).await?,
        ))
    }

    /// Payments an admin must look at: amounts that did not match, late payments, refunds
    /// made outside Darkhan. Admins only.
    async fn payment_reviews(&self, ctx: &Context<'_>) -> Result<Vec<Payment>> {
        let state = ctx.data::<AppState>()?;
        let rows = reviews::list(state, ctx.current_user()?).await?;
        Ok(rows.into_iter().map(|p| Payment(p, Party::Admin)).collect())
    }
}

#[derive(Default)]
pub struct PaymentMutation;

#[Object]
impl PaymentMutation {
    /// A fresh client secret for a card checkout that can still be paid (after a failed or
    /// abandoned attempt). Never creates a second payment for the same attempt.
    async fn retry_payment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The checkout.")] input: RetryPaymentInput,
    ) -> Result<RetryPaymentPayload> {
        let state = ctx.data::<AppState>()?;
        let checkout = uuid("checkoutId", &input.checkout_id)?;
        let session = crate::payments::card::retry(state, ctx.current_user()?, checkout).await?;
        Ok(RetryPaymentPayload {
            payment: session.into(),
        })
    }

    /// Refunds an order fully or partly: admins any paid, shipped or delivered order; the
    /// shop its paid orders not yet shipped. A full refund of an unshipped order cancels it
    /// and returns its stock.
    async fn refund_order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order, amount and reason.")] input: RefundOrderInput,
    ) -> Result<RefundOrderPayload> {
        let state = ctx.data::<AppState>()?;
        let request = refunds::RefundRequest {
            order_id: uuid("orderId", &input.order_id)?,
            amount_minor: input.amount_minor,
            reason: input.reason,
            reference: input.reference,
        };
        let (refund, order) = refunds::refund_order(state, ctx.current_user()?, request).await?;
        Ok(RefundOrderPayload {
            refund: Refund(refund),
            order: Order(order, View::new(ctx, None, None)?),
        })
    }

    /// Starts or resumes Stripe Connect onboarding for the artisan's shop, so payouts can go
    /// by Stripe transfer. Returns a single-use link.
    async fn start_payout_onboarding(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Where Stripe sends the artisan back.")] input: StartPayoutOnboardingInput,
    ) -> Result<StartPayoutOnboardingPayload> {
        let state = ctx.data::<AppState>()?;
        let (account_id, link) = payouts::start_onboarding(
            state,
            ctx.current_user()?,
            &input.return_url,
            &input.refresh_url,
        )
        .await?;
        Ok(StartPayoutOnboardingPayload {
            onboarding: PayoutOnboarding {
                account_id,
                url: link.url,
                expires_at: Utc
                    .timestamp_opt(link.expires_at, 0)
                    .single()
                    .unwrap_or_else(Utc::now),
            },
        })
    }

    /// Pays a shop its available balance: by Stripe transfer to its connected account, or
    /// recorded as a bank payout when a reference is given. Admins only.
    async fn create_payout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shop and, for a bank payout, its reference.")]
        input: CreatePayoutInput,
    ) -> Result<CreatePayoutPayload> {
        let state = ctx.data::<AppState>()?;
        let shop = uuid("shopId", &input.shop_id)?;
        let payout =
            payouts::create_payout(state, ctx.current_user()?, shop, input.reference).await?;
        Ok(CreatePayoutPayload {
            payout: Payout(payout),
        })
    }

    /// Clears a payment review after dealing with it (e.g. refunding on Stripe's dashboard);
    /// the note goes into each order's history. Admins only.
    async fn resolve_payment_review(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The checkout and what was done.")] input: ResolvePaymentReviewInput,
    ) -> Result<ResolvePaymentReviewPayload> {
        let state = ctx.data::<AppState>()?;
        let checkout = uuid("checkoutId", &input.checkout_id)?;
        let payment = reviews::resolve(state, ctx.current_user()?, checkout, &input.note).await?;
        Ok(ResolvePaymentReviewPayload {
            payment: Payment(payment, Party::Admin),
        })
    }

    /// Sets a shop's commission for new orders, or returns it to the platform default.
    /// Admins only.
    async fn set_shop_commission(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shop and its commission.")] input: SetShopCommissionInput,
    ) -> Result<SetShopCommissionPayload> {
        let state = ctx.data::<AppState>()?;
        let shop = uuid("shopId", &input.shop_id)?;
        let shop =
            payouts::set_commission(state, ctx.current_user()?, shop, input.basis_points).await?;
        Ok(SetShopCommissionPayload {
            finances: ShopFinances(shop),
        })
    }
}
