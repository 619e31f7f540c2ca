//! Output types and payloads of the payments GraphQL: card sessions, refunds, balances, the
//! ledger and payouts.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use crate::graphql::orders::Order;
use crate::payments::{card::CardPayment as CardSession, ledger, payouts};
use crate::{
    entities::{
        ledger_entries::{self, EntryKind as DbKind},
        payments::{self as payment_rows, PaymentStatus as DbPaymentStatus, Provider},
        payouts::{self as payout_rows, PayoutMethod as DbMethod, PayoutStatus as DbPayoutStatus},
        refunds::{self as refund_rows, RefundStatus as DbRefundStatus},
        shops,
    },
    error::{AppError, AppResult},
    graphql::orders::money,
    kit::Money,
    orders::state::Party,
    state::AppState,
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
    /// A bank transfer that arrived after its orders expired, sent back to the buyer.
    Returned,
}

impl From<DbPaymentStatus> for PaymentStatus {
    fn from(s: DbPaymentStatus) -> Self {
        match s {
            DbPaymentStatus::RequiresPayment => Self::RequiresPayment,
            DbPaymentStatus::Succeeded => Self::Succeeded,
            DbPaymentStatus::Review => Self::Review,
            DbPaymentStatus::Returned => Self::Returned,
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
/// Seen by a party of the order (`Party::of`): the checkout covers other shops' orders too,
/// and a card's decline is the buyer's business, so a shop sees only whether and how its
/// order was paid.
pub struct Payment(pub payment_rows::Model, pub Party);

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
        (self.1 != Party::Shop).then(|| money(self.0.amount_minor, &self.0.currency))
    }
    /// Failed card attempts so far.
    async fn failures(&self) -> i32 {
        self.0.failures
    }
    /// Why the last card attempt failed, as Stripe put it (the buyer and admins only).
    async fn last_error(&self) -> Option<&str> {
        (self.1 != Party::Shop)
            .then_some(self.0.last_error.as_deref())
            .flatten()
    }
    /// Why an admin must look at it (admins only; null for everyone else).
    async fn review_reason(&self) -> Option<&str> {
        (self.1 == Party::Admin)
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

/// The platform's own account in one currency.
#[derive(SimpleObject)]
pub struct PlatformAccount {
    /// ISO 4217 currency.
    pub currency: String,
    /// Commission earned on paid orders, less what refunds gave back.
    pub commission: crate::kit::Money,
    /// Platform-funded discounts paid out of the orders' commission (negative).
    pub discount_absorbed: crate::kit::Money,
    /// Platform-funded discounts beyond the orders' commission: a marketing expense (negative).
    pub promotion_expense: crate::kit::Money,
    /// What the platform keeps: the sum of the three.
    pub net: crate::kit::Money,
}

/// A shop's money: balance, ledger and payouts. Its owner and admins only.
pub struct ShopFinances(pub shops::Model);

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
        Ok(crate::catalog::shops::commission_bps(
            &self.0,
            state.settings.payments.commission_bps,
        ))
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

/// How to pay a bank-transfer checkout: the platform's account, the exact amount, the
/// reference to quote so the money finds its order, and the deadline.
#[derive(SimpleObject)]
pub struct BankTransferInstructions {
    /// The bank's name.
    pub bank: String,
    /// Whose account it is.
    pub account_holder: String,
    /// The account number, for transfers within Mongolia.
    pub account_number: String,
    /// The IBAN, for transfers from abroad.
    pub iban: String,
    /// The bank's SWIFT/BIC code, for transfers from abroad.
    pub swift: String,
    /// Quote this with the transfer, e.g. DK-7F3K9Q.
    pub payment_reference: String,
    /// The exact amount to send.
    pub amount: Money,
    /// After this the orders are cancelled and their items released (UTC).
    pub pay_by: DateTime<Utc>,
}

impl From<crate::payments::bank::Instructions> for BankTransferInstructions {
    fn from(i: crate::payments::bank::Instructions) -> Self {
        Self {
            bank: i.details.bank,
            account_holder: i.details.account_holder,
            account_number: i.details.account_number,
            iban: i.details.iban,
            swift: i.details.swift,
            payment_reference: i.reference,
            amount: money(i.amount_minor, &i.currency),
            pay_by: i.pay_by,
        }
    }
}

/// A bank-transfer checkout, as admins follow it.
pub struct BankTransfer(pub crate::entities::checkouts::Model, pub crate::kit::View);

/// A bank-transfer checkout, as admins follow it.
#[Object]
impl BankTransfer {
    /// The checkout.
    async fn checkout_id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The reference the buyer was asked to quote.
    async fn payment_reference(&self) -> Option<&str> {
        self.0.payment_reference.as_deref()
    }
    /// What the buyer owes in all.
    async fn amount(&self) -> Money {
        money(self.0.total_minor, &self.0.currency)
    }
    /// When the checkout was placed (UTC).
    async fn placed_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Its orders, one per shop.
    async fn orders(&self, ctx: &Context<'_>) -> Result<Vec<Order>> {
        let state = ctx.data::<AppState>()?;
        let rows = crate::payments::bank::orders_of(&state.db, self.0.id).await?;
        Ok(rows.into_iter().map(|o| Order(o, self.1.clone())).collect())
    }
}

/// Result of confirming, reinstating or sending back a bank transfer.
#[derive(SimpleObject)]
pub struct ConfirmManualPaymentPayload {
    /// The checkout's orders after the change.
    pub orders: Vec<Order>,
}
