//! Root mutation fields of the payments GraphQL.

use super::{inputs::*, types::*};
use crate::payments::{bank, payouts, refunds, reviews};
use crate::{
    auth::CallerExt,
    graphql::orders::Order,
    kit::{View, uuid},
    orders::state::Party,
    state::AppState,
};
use async_graphql::{Context, Object, Result};
use chrono::{TimeZone, Utc};

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

    /// Records that a bank transfer arrived in time, found by checkout or by the payment
    /// reference the buyer quoted; its orders become PAID and the shops are credited.
    /// CONFLICT, naming the way forward, when orders were cancelled meanwhile. Admins only.
    async fn confirm_manual_payment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The transfer and the bank's reference.")]
        input: ConfirmManualPaymentInput,
    ) -> Result<ConfirmManualPaymentPayload> {
        let state = ctx.data::<AppState>()?;
        let paid = bank::confirm(
            state,
            ctx.current_user()?,
            input.target()?,
            &input.reference,
        )
        .await?;
        orders_payload(ctx, paid)
    }

    /// Money for expired orders arrived late: takes their stock again (OUT_OF_STOCK, and
    /// nothing changes, when an item is gone) and marks them PAID. Admins only.
    async fn reinstate_bank_transfer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The transfer and the bank's reference.")]
        input: ConfirmManualPaymentInput,
    ) -> Result<ConfirmManualPaymentPayload> {
        let state = ctx.data::<AppState>()?;
        let paid = bank::reinstate(
            state,
            ctx.current_user()?,
            input.target()?,
            &input.reference,
        )
        .await?;
        orders_payload(ctx, paid)
    }

    /// Records that a late transfer for expired orders was sent back to the buyer, with the
    /// bank's reference of the return. Admins only.
    async fn return_bank_transfer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The transfer and the bank's reference of the return.")]
        input: ConfirmManualPaymentInput,
    ) -> Result<ConfirmManualPaymentPayload> {
        let state = ctx.data::<AppState>()?;
        let orders = bank::send_back(
            state,
            ctx.current_user()?,
            input.target()?,
            &input.reference,
        )
        .await?;
        orders_payload(ctx, orders)
    }
}

fn orders_payload(
    ctx: &Context<'_>,
    orders: Vec<crate::entities::orders::Model>,
) -> Result<ConfirmManualPaymentPayload> {
    let view = View::new(ctx, None, None)?;
    Ok(ConfirmManualPaymentPayload {
        orders: orders.into_iter().map(|o| Order(o, view.clone())).collect(),
    })
}
