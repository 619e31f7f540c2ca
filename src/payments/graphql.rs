//! GraphQL face of payments: card sessions, refunds, balances, the ledger and payouts.
//! Resolvers stay thin; the rules live in the services beside this file.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, TimeZone, Utc};

use super::{card::CardPayment as CardSession, ledger, payouts, refunds};
use crate::{
    app::AppState,
    auth::{CallerExt, CurrentUser},
    catalog::{
        graphql::{Money, View, uuid},
        shops::shop_of,
    },
    entities::{
        ledger_entries::{self, EntryKind as DbKind},
        payments::{self as payment_rows, PaymentStatus as DbPaymentStatus, Provider},
        payouts::{self as payout_rows, PayoutMethod as DbMethod, PayoutStatus as DbPayoutStatus},
        refunds::{self as refund_rows, RefundStatus as DbRefundStatus},
        shops,
        users::Role,
    },
    error::{AppError, AppResult},
    orders::graphql::{Order, money},
};

/// Who carries a payment or refund.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum PaymentProvider {
    /// A card through Stripe.
    Stripe,
    /// A bank transfer, confirmed or recorded by an admin.
    BankTransfer,
}

impl From<Provider> for PaymentProvider {
    fn from(p: Provider) -> Self {
        match p {
            Provider::Stripe => Self::Stripe,
            Provider::BankTransfer => Self::BankTransfer,
        }
    }
}

/// Where a payment stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum PaymentStatus {
    /// Waiting for the buyer, also after a failed attempt until the orders expire.
    RequiresPayment,
    /// Paid; the orders are PAID.
    Succeeded,
    /// Money arrived that does not match the checkout or came too late; an admin decides.
    Review,
}

impl From<DbPaymentStatus> for PaymentStatus {
    fn from(s: DbPaymentStatus) -> Self {
        match s {
            DbPaymentStatus::RequiresPayment => Self::RequiresPayment,
            DbPaymentStatus::Succeeded => Self::Succeeded,
            DbPaymentStatus::Review => Self::Review,
        }
    }
}

/// What a client needs to take the card with Stripe.js or the Stripe mobile SDKs.
#[derive(SimpleObject)]
pub struct CardPayment {
    /// The Stripe PaymentIntent, `pi_…`.
    pub payment_intent_id: String,
    /// Pass to `stripe.confirmPayment` / PaymentSheet. Secret to this buyer: never log it.
    pub client_secret: Option<String>,
    /// The platform's publishable key, when configured.
    pub publishable_key: Option<String>,
    /// What will be charged: the checkout's total.
    pub amount: Money,
    /// Where the payment stands.
    pub status: PaymentStatus,
}

impl From<CardSession> for CardPayment {
    fn from(s: CardSession) -> Self {
        Self {
            payment_intent_id: s.payment.provider_ref.clone().unwrap_or_default(),
            client_secret: s.client_secret,
            publishable_key: s.publishable_key,
            amount: money(s.payment.amount_minor, &s.payment.currency),
            status: s.payment.status.into(),
        }
    }
}

/// The payment of a checkout (all its orders together).
pub struct Payment(pub payment_rows::Model, pub Viewer);

/// Who looks at a payment: the checkout covers other shops' orders too, and a card's decline
/// is the buyer's business, so a shop sees only whether and how its order was paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    Admin,
    Buyer,
    Shop,
}

/// The payment of a checkout: card through Stripe or a confirmed bank transfer.
#[Object]
impl Payment {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The checkout paid for.
    async fn checkout_id(&self) -> ID {
        ID(self.0.checkout_id.to_string())
    }
    /// Card or bank transfer.
    async fn provider(&self) -> PaymentProvider {
        self.0.provider.into()
    }
    /// Where it stands.
    async fn status(&self) -> PaymentStatus {
        self.0.status.into()
    }
    /// What the payment is for: the checkout's orders still due, in the buyer's currency
    /// (the buyer and admins only; null for shops).
    async fn amount(&self) -> Option<Money> {
        (self.1 != Viewer::Shop).then(|| money(self.0.amount_minor, &self.0.currency))
    }
    /// Failed card attempts so far.
    async fn failures(&self) -> i32 {
        self.0.failures
    }
    /// Why the last card attempt failed, as Stripe put it (the buyer and admins only).
    async fn last_error(&self) -> Option<&str> {
        (self.1 != Viewer::Shop)
            .then_some(self.0.last_error.as_deref())
            .flatten()
    }
    /// Why an admin must look at it (admins only; null for everyone else).
    async fn review_reason(&self) -> Option<&str> {
        (self.1 == Viewer::Admin)
            .then_some(self.0.review_reason.as_deref())
            .flatten()
    }
    /// When it was last updated.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Where a refund stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum RefundStatus {
    /// Recorded; Stripe has not answered yet.
    Requested,
    /// Accepted by Stripe, on its way to the card.
    Pending,
    /// Done.
    Succeeded,
    /// Refused; nothing was refunded.
    Failed,
}

impl From<DbRefundStatus> for RefundStatus {
    fn from(s: DbRefundStatus) -> Self {
        match s {
            DbRefundStatus::Requested => Self::Requested,
            DbRefundStatus::Pending => Self::Pending,
            DbRefundStatus::Succeeded => Self::Succeeded,
            DbRefundStatus::Failed => Self::Failed,
        }
    }
}

/// Money given back for (part of) an order.
pub struct Refund(pub refund_rows::Model);

/// Money given back to a buyer for (part of) an order.
#[Object]
impl Refund {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The order refunded.
    async fn order_id(&self) -> ID {
        ID(self.0.order_id.to_string())
    }
    /// Card (Stripe Refund) or recorded bank transfer.
    async fn method(&self) -> PaymentProvider {
        self.0.method.into()
    }
    /// Where it stands.
    async fn status(&self) -> RefundStatus {
        self.0.status.into()
    }
    /// Given back to the buyer, in the currency they paid.
    async fn amount(&self) -> Money {
        money(self.0.amount_minor, &self.0.currency)
    }
    /// Taken from the shop's balance, in its settlement currency, before the commission.
    async fn shop_amount(&self) -> Money {
        money(self.0.shop_amount_minor, &self.0.shop_currency)
    }
    /// The part of the commission the platform returns to the shop.
    async fn commission_returned(&self) -> Money {
        money(self.0.shop_commission_minor, &self.0.shop_currency)
    }
    /// Stripe's refund id (`re_…`) or the bank's reference.
    async fn reference(&self) -> Option<&str> {
        self.0.provider_ref.as_deref()
    }
    /// Why it was refunded.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    /// When it was requested.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Why a ledger entry was written.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum LedgerEntryKind {
    /// + an order's total in the shop's currency, when paid.
    Sale,
    /// − the platform's commission on a sale.
    Commission,
    /// − money given back to a buyer (+ when a failed refund is booked back).
    Refund,
    /// + the commission returned with a refund.
    CommissionRefund,
    /// − money paid out to the shop.
    Payout,
    /// + on an order that owed money, − on the order whose share settled it, in one payout.
    DebtSettlement,
    /// + a payout transfer that failed, booked back.
    PayoutReversal,
}

impl From<DbKind> for LedgerEntryKind {
    fn from(k: DbKind) -> Self {
        match k {
            DbKind::Sale => Self::Sale,
            DbKind::Commission => Self::Commission,
            DbKind::Refund => Self::Refund,
            DbKind::CommissionRefund => Self::CommissionRefund,
            DbKind::Payout => Self::Payout,
            DbKind::DebtSettlement => Self::DebtSettlement,
            DbKind::PayoutReversal => Self::PayoutReversal,
        }
    }
}

/// One line of a shop's ledger.
pub struct LedgerEntry(pub ledger_entries::Model);

/// One line of a shop's ledger, in its settlement currency.
#[Object]
impl LedgerEntry {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The order it belongs to.
    async fn order_id(&self) -> ID {
        ID(self.0.order_id.to_string())
    }
    /// Why it was written.
    async fn kind(&self) -> LedgerEntryKind {
        self.0.kind.into()
    }
    /// Signed amount in the shop's settlement currency.
    async fn amount(&self) -> Money {
        money(self.0.amount_minor, &self.0.currency)
    }
    /// The refund behind it, if any.
    async fn refund_id(&self) -> Option<ID> {
        self.0.refund_id.map(|id| ID(id.to_string()))
    }
    /// The payout behind it, if any.
    async fn payout_id(&self) -> Option<ID> {
        self.0.payout_id.map(|id| ID(id.to_string()))
    }
    /// The Stripe transfer (`tr_…`) of a payout entry.
    async fn transfer_id(&self) -> Option<&str> {
        self.0.provider_ref.as_deref()
    }
    /// When it was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A shop's balance in one currency; `total` always equals the sum of its ledger entries.
#[derive(SimpleObject)]
pub struct Balance {
    /// ISO 4217 code.
    pub currency: String,
    /// Owed but not yet payable: orders not yet delivered, or within the holding period.
    pub pending: Money,
    /// Payable now.
    pub available: Money,
    /// Pending plus available.
    pub total: Money,
}

/// How a payout was made.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum PayoutMethod {
    /// Stripe Connect transfers to the shop's connected account.
    StripeTransfer,
    /// A bank payment an admin made and recorded.
    Bank,
}

/// Where a payout stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum PayoutStatus {
    /// Transfers are being made.
    Processing,
    /// Paid.
    Paid,
    /// Stripe refused (part of) it; what was not transferred is back in the balance.
    Failed,
}

/// Money paid to a shop.
pub struct Payout(pub payout_rows::Model);

/// Money paid out to a shop.
#[Object]
impl Payout {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The shop paid.
    async fn shop_id(&self) -> ID {
        ID(self.0.shop_id.to_string())
    }
    /// Stripe transfer or bank payment.
    async fn method(&self) -> PayoutMethod {
        match self.0.method {
            DbMethod::StripeTransfer => PayoutMethod::StripeTransfer,
            DbMethod::Bank => PayoutMethod::Bank,
        }
    }
    /// Where it stands.
    async fn status(&self) -> PayoutStatus {
        match self.0.status {
            DbPayoutStatus::Processing => PayoutStatus::Processing,
            DbPayoutStatus::Paid => PayoutStatus::Paid,
            DbPayoutStatus::Failed => PayoutStatus::Failed,
        }
    }
    /// The amount paid out, in the shop's settlement currency.
    async fn amount(&self) -> Money {
        money(self.0.amount_minor, &self.0.currency)
    }
    /// The bank's reference, for bank payouts.
    async fn reference(&self) -> Option<&str> {
        self.0.reference.as_deref()
    }
    /// What Stripe said when it refused.
    async fn failure(&self) -> Option<&str> {
        self.0.failure.as_deref()
    }
    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A shop's money: balance, ledger and payouts. Its owner and admins only.
pub struct ShopFinances(shops::Model);

/// A shop's money: balances, ledger and payouts. Visible to its owner and admins.
#[Object]
impl ShopFinances {
    /// The shop.
    async fn shop_id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The commission new orders carry, in basis points (1000 = 10 %).
    async fn commission_basis_points(&self, ctx: &Context<'_>) -> Result<i32> {
        let state = ctx.data::<AppState>()?;
        Ok(self
            .0
            .commission_bps
            .unwrap_or(state.settings.payments.commission_bps))
    }
    /// Whether this shop has its own commission instead of the platform default.
    async fn has_commission_override(&self) -> bool {
        self.0.commission_bps.is_some()
    }
    /// The shop's Stripe Connect account, once onboarding started.
    async fn stripe_account_id(&self) -> Option<&str> {
        self.0.stripe_account_id.as_deref()
    }
    /// Whether payouts go by Stripe transfer (else by bank).
    async fn payouts_enabled(&self) -> bool {
        self.0.payouts_enabled
    }
    /// Balances per currency.
    async fn balances(&self, ctx: &Context<'_>) -> Result<Vec<Balance>> {
        let state = ctx.data::<AppState>()?;
        let nets = ledger::order_nets(
            &state.db,
            self.0.id,
            state.settings.payments.holding_days,
            Utc::now(),
        )
        .await?;
        Ok(ledger::balances(&nets)
            .into_iter()
            .map(|b| Balance {
                pending: money(b.pending_minor, &b.currency),
                available: money(b.available_minor, &b.currency),
                total: money(b.pending_minor + b.available_minor, &b.currency),
                currency: b.currency,
            })
            .collect())
    }
    /// Ledger entries, newest first.
    async fn ledger(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many (1 to 500, default 100).")] first: Option<i64>,
    ) -> Result<Vec<LedgerEntry>> {
        let state = ctx.data::<AppState>()?;
        let rows = ledger::entries(&state.db, self.0.id, limit(first, 500)?).await?;
        Ok(rows.into_iter().map(LedgerEntry).collect())
    }
    /// Payouts, newest first.
    async fn payouts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many (1 to 500, default 100).")] first: Option<i64>,
    ) -> Result<Vec<Payout>> {
        let state = ctx.data::<AppState>()?;
        let rows = payouts::history(state, self.0.id, limit(first, 500)?).await?;
        Ok(rows.into_iter().map(Payout).collect())
    }
}

fn limit(first: Option<i64>, max: i64) -> AppResult<u64> {
    let n = first.unwrap_or(100);
    if !(1..=max).contains(&n) {
        return Err(AppError::invalid(
            "first",
            format!("first must be between 1 and {max}"),
        ));
    }
    Ok(n as u64)
}

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

/// The shop the caller may see the money of: their own, or any for admins.
async fn finances_shop(
    state: &AppState,
    caller: CurrentUser,
    shop_id: Option<uuid::Uuid>,
) -> AppResult<shops::Model> {
    use sea_orm::EntityTrait;
    let not_found = || AppError::NotFound("no such shop".into());
    match shop_id {
        Some(id) => {
            let shop = shops::Entity::find_by_id(id)
                .one(&state.db)
                .await?
                .ok_or_else(not_found)?;
            if caller.role == Role::Admin || shop.owner_id == caller.id {
                Ok(shop)
            } else {
                Err(AppError::Forbidden(
                    "only the shop's owner sees its money".into(),
                ))
            }
        }
        None => shop_of(&state.db, caller.id).await?.ok_or_else(not_found),
    }
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
            finances_shop(state, ctx.current_user()?, id).await?,
        ))
    }

    /// Payments an admin must look at: amounts that did not match, late payments, refunds
    /// made outside Darkhan. Admins only.
    async fn payment_reviews(&self, ctx: &Context<'_>) -> Result<Vec<Payment>> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
        let state = ctx.data::<AppState>()?;
        ctx.current_user()?.require_role(&[Role::Admin])?;
        let rows = payment_rows::Entity::find()
            .filter(payment_rows::Column::ReviewReason.is_not_null())
            .order_by_desc(payment_rows::Column::UpdatedAt)
            .limit(200)
            .all(&state.db)
            .await
            .map_err(AppError::from)?;
        Ok(rows
            .into_iter()
            .map(|p| Payment(p, Viewer::Admin))
            .collect())
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
        let session = super::card::retry(state, ctx.current_user()?, checkout).await?;
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
        let payment =
            super::reviews::resolve(state, ctx.current_user()?, checkout, &input.note).await?;
        Ok(ResolvePaymentReviewPayload {
            payment: Payment(payment, Viewer::Admin),
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
