//! Payouts: an admin pays a shop its available balance, by Stripe Connect transfer where
//! the shop's connected account can receive payouts, otherwise as a bank payment recorded
//! with its reference. Also the artisan's Stripe Connect onboarding.
//!
//! A payout zeroes each available order's net. An order left owing money by a late refund is
//! settled from the others first (a pair of DEBT_SETTLEMENT entries); what remains of each order
//! is paid with a PAYOUT entry, which with Stripe is one transfer in the order's checkout
//! `transfer_group` (Stripe's "separate charges and transfers"), keyed `payout-{payout}-{order}`.
//! A transfer Stripe refuses is booked back (PAYOUT_REVERSAL); one it could not be asked for
//! (an outage, a timeout) stays open and is sent again, with the same key, by
//! `payments::resubmit_stale`,
//! so a transfer that did happen is never made twice.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, SqlErr,
    sea_query::Expr,
};
use uuid::Uuid;

use super::ledger::{self, NewEntry};
use crate::{
    auth::CurrentUser,
    catalog::shops::shop_of,
    entities::{
        ledger_entries::{self, EntryKind},
        orders,
        payouts::{self, PayoutMethod, PayoutStatus},
        shops,
        users::{self, Role},
    },
    error::{AppError, AppResult},
    state::AppState,
    stripe::{OnboardingLink, TransferRequest},
};

/// One order's part of a payout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub order_id: Uuid,
    /// + for an order that owed money, − for the order whose share settles it.
    pub settlement_minor: i64,
    /// What is paid out for this order.
    pub transfer_minor: i64,
}

/// Plans a payout from available order nets `(order, net)`: debts are settled from the
/// positive orders in order, the rest of each is paid. `None` when nothing is available.
pub fn plan(nets: &[(Uuid, i64)]) -> Option<(i64, Vec<Part>)> {
    let total: i64 = nets.iter().map(|(_, n)| n).sum();
    if total <= 0 {
        return None;
    }
    let mut debt: i64 = nets.iter().filter(|(_, n)| *n < 0).map(|(_, n)| -n).sum();
    let mut parts = Vec::new();
    for &(order_id, net) in nets {
        let part = if net < 0 {
            Part {
                order_id,
                settlement_minor: -net,
                transfer_minor: 0,
            }
        } else {
            let taken = debt.min(net);
            debt -= taken;
            Part {
                order_id,
                settlement_minor: -taken,
                transfer_minor: net - taken,
            }
        };
        if part.settlement_minor != 0 || part.transfer_minor != 0 {
            parts.push(part);
        }
    }
    Some((total, parts))
}

/// Pays a shop its available balance. `reference` records a bank payout; without it the
/// shop's connected Stripe account must be able to receive payouts.
#[tracing::instrument(skip_all, fields(user = %caller.id, shop = %shop_id))]
pub async fn create_payout(
    state: &AppState,
    caller: CurrentUser,
    shop_id: Uuid,
    reference: Option<String>,
) -> AppResult<payouts::Model> {
    caller.require_role(&[Role::Admin])?;
    let reference = reference
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if reference.as_ref().is_some_and(|r| r.len() > 200) {
        return Err(AppError::invalid("reference", "at most 200 characters"));
    }
    let txn = crate::db::begin_write(&state.db).await?;
    // Write first: the shop row serialises payouts of one shop on both databases.
    let locked = shops::Entity::update_many()
        .col_expr(
            shops::Column::UpdatedAt,
            Expr::col(shops::Column::UpdatedAt),
        )
        .filter(shops::Column::Id.eq(shop_id))
        .exec(&txn)
        .await?
        .rows_affected;
    let shop = shops::Entity::find_by_id(shop_id)
        .one(&txn)
        .await?
        .filter(|_| locked == 1)
        .ok_or_else(|| AppError::NotFound("no such shop".into()))?;
    let method = match (&reference, &shop.stripe_account_id) {
        (Some(_), _) => PayoutMethod::Bank,
        (None, Some(_)) if shop.payouts_enabled && state.stripe.is_some() => {
            PayoutMethod::StripeTransfer
        }
        _ => {
            return Err(AppError::invalid(
                "reference",
                "this shop cannot receive Stripe transfers yet; pay by bank and give its reference",
            ));
        }
    };
    let now = Utc::now();
    let nets = ledger::order_nets(&txn, shop.id, state.settings.payments.holding_days, now).await?;
    let available: Vec<_> = nets
        .iter()
        .filter(|n| n.available && n.currency == shop.settlement_currency)
        .collect();
    let planned: Vec<(Uuid, i64)> = available
        .iter()
        .map(|n| (n.order.id, n.net_minor))
        .collect();
    let Some((total, parts)) = plan(&planned) else {
        return Err(AppError::Conflict(
            "nothing is available to pay out yet".into(),
        ));
    };
    let payout = payouts::ActiveModel {
        id: Set(Uuid::now_v7()),
        shop_id: Set(shop.id),
        method: Set(method),
        status: Set(match method {
            PayoutMethod::Bank => PayoutStatus::Paid,
            PayoutMethod::StripeTransfer => PayoutStatus::Processing,
        }),
        amount_minor: Set(total),
        currency: Set(shop.settlement_currency.clone()),
        reference: Set(reference),
        failure: Set(None),
        actor_id: Set(Some(caller.id)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    let orders: HashMap<Uuid, _> = available.iter().map(|n| (n.order.id, &n.order)).collect();
    for part in &parts {
        let order = orders
            .get(&part.order_id)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("planned order missing")))?;
        for (kind, amount_minor) in [
            (EntryKind::DebtSettlement, part.settlement_minor),
            (EntryKind::Payout, -part.transfer_minor),
        ] {
            if amount_minor != 0 {
                let entry = NewEntry {
                    order,
                    kind,
                    amount_minor,
                    refund_id: None,
                    payout_id: Some(payout.id),
                };
                ledger::write(&txn, entry).await?;
            }
        }
    }
    if payout.status == PayoutStatus::Paid {
        paid_notice(&txn, &payout, shop.owner_id).await?;
    }
    txn.commit().await?;
    match method {
        PayoutMethod::Bank => Ok(payout),
        PayoutMethod::StripeTransfer => submit_transfers(state, &payout).await,
    }
}

/// Makes the Stripe transfers of a payout that are still open, each with its own key, and
/// settles the payout: PAID when all went, FAILED (the refused ones booked back) when Stripe
/// refused one, still PROCESSING when Stripe could not be reached.
pub async fn submit_transfers(
    state: &AppState,
    payout: &payouts::Model,
) -> AppResult<payouts::Model> {
    let gateway = state.stripe()?;
    let destination = shops::Entity::find_by_id(payout.shop_id)
        .one(&state.db)
        .await?
        .and_then(|s| s.stripe_account_id)
        .ok_or_else(|| AppError::Conflict("the shop has no Stripe account".into()))?;
    let entries = ledger_entries::Entity::find()
        .filter(ledger_entries::Column::PayoutId.eq(payout.id))
        .order_by_asc(ledger_entries::Column::Id)
        .all(&state.db)
        .await?;
    let reversed: HashSet<Uuid> = entries
        .iter()
        .filter(|e| e.kind == EntryKind::PayoutReversal)
        .map(|e| e.order_id)
        .collect();
    let open = entries.iter().filter(|e| {
        e.kind == EntryKind::Payout && e.provider_ref.is_none() && !reversed.contains(&e.order_id)
    });
    let mut failure = payout.failure.clone();
    let mut unreachable = false;
    for entry in open {
        let order = orders::Entity::find_by_id(entry.order_id)
            .one(&state.db)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("payout names a missing order")))?;
        if failure.is_none() {
            let request = TransferRequest {
                amount_minor: -entry.amount_minor,
                currency: &payout.currency,
                destination: &destination,
                transfer_group: order.checkout_id.to_string(),
                idempotency_key: format!("payout-{}-{}", payout.id, order.id),
                metadata: HashMap::from([
                    ("payout_id".to_owned(), payout.id.to_string()),
                    ("order_id".to_owned(), order.id.to_string()),
                    ("shop_id".to_owned(), payout.shop_id.to_string()),
                ]),
            };
            match gateway.transfer(request).await {
                Ok(transfer) => {
                    ledger_entries::Entity::update_many()
                        .col_expr(
                            ledger_entries::Column::ProviderRef,
                            Expr::value(Some(transfer)),
                        )
                        .filter(ledger_entries::Column::Id.eq(entry.id))
                        .exec(&state.db)
                        .await?;
                    continue;
                }
                Err(err) if err.code() == "PAYMENT_PROVIDER_UNAVAILABLE" => {
                    // It may have happened: keep it open and ask again with the same key.
                    unreachable = true;
                    break;
                }
                Err(err) => failure = Some(err.message()),
            }
        }
        // Refused, or after a refusal: book this order's share back.
        let back = NewEntry {
            order: &order,
            kind: EntryKind::PayoutReversal,
            amount_minor: -entry.amount_minor,
            refund_id: None,
            payout_id: Some(payout.id),
        };
        match ledger::write(&state.db, back).await {
            Ok(_) => {}
            // Another server booked it back first.
            Err(AppError::Db(e))
                if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
            Err(e) => return Err(e),
        }
    }
    let status = match (&failure, unreachable) {
        (_, true) => PayoutStatus::Processing,
        (Some(_), false) => PayoutStatus::Failed,
        (None, false) => PayoutStatus::Paid,
    };
    let txn = crate::db::begin_write(&state.db).await?;
    let settled = payouts::Entity::update_many()
        .col_expr(payouts::Column::Status, Expr::value(status))
        .col_expr(payouts::Column::Failure, Expr::value(failure))
        .col_expr(payouts::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(payouts::Column::Id.eq(payout.id))
        .filter(payouts::Column::Status.eq(PayoutStatus::Processing))
        .exec(&txn)
        .await?;
    if settled.rows_affected == 1
        && status == PayoutStatus::Paid
        && let Some(shop) = shops::Entity::find_by_id(payout.shop_id).one(&txn).await?
    {
        paid_notice(&txn, payout, shop.owner_id).await?;
    }
    txn.commit().await?;
    payouts::Entity::find_by_id(payout.id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("payout vanished")))
}

/// Tells the shop's owner that a payout left, in the transaction that marked it PAID.
async fn paid_notice(
    db: &impl sea_orm::ConnectionTrait,
    payout: &payouts::Model,
    owner: Uuid,
) -> AppResult<()> {
    let data = serde_json::json!({
        "payout_id": payout.id,
        "amount_minor": payout.amount_minor,
        "currency": payout.currency,
        "audience": "shop",
    });
    crate::outbox::enqueue(
        db,
        [crate::outbox::Notice::new(
            crate::outbox::Kind::PayoutSent,
            owner,
            payout.id,
            data,
        )],
    )
    .await
}

/// Sends again the transfers of payouts still PROCESSING, last touched before `before`.
pub async fn resubmit(state: &AppState, before: chrono::DateTime<Utc>) -> AppResult<usize> {
    let stale = payouts::Entity::find()
        .filter(payouts::Column::Status.eq(PayoutStatus::Processing))
        .filter(payouts::Column::UpdatedAt.lt(before))
        .limit(50)
        .all(&state.db)
        .await?;
    let mut done = 0;
    for payout in stale {
        match submit_transfers(state, &payout).await {
            Ok(_) => done += 1,
            Err(e) => {
                tracing::warn!(payout = %payout.id, code = e.code(), "payout resubmission failed")
            }
        }
    }
    Ok(done)
}

/// A shop's payouts, newest first.
pub async fn history(
    state: &AppState,
    shop_id: Uuid,
    limit: u64,
) -> AppResult<Vec<payouts::Model>> {
    Ok(payouts::Entity::find()
        .filter(payouts::Column::ShopId.eq(shop_id))
        .order_by_desc(payouts::Column::Id)
        .limit(limit)
        .all(&state.db)
        .await?)
}

/// Starts (or continues) Stripe Connect onboarding for the caller's shop: creates an Express
/// account the first time, then a fresh single-use onboarding link.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn start_onboarding(
    state: &AppState,
    caller: CurrentUser,
    return_url: &str,
    refresh_url: &str,
) -> AppResult<(String, OnboardingLink)> {
    caller.require_role(&[Role::Artisan])?;
    for (field, url) in [("returnUrl", return_url), ("refreshUrl", refresh_url)] {
        let ok = (url.starts_with("https://") || url.starts_with("http://"))
            && url.len() <= 500
            && !url.contains(char::is_whitespace);
        if !ok {
            return Err(AppError::invalid(field, "must be an http(s) address"));
        }
    }
    let shop = shop_of(&state.db, caller.id)
        .await?
        .ok_or_else(|| AppError::NotFound("you have no shop yet".into()))?;
    let gateway = state.stripe().map_err(|_| {
        AppError::refused(
            "PAYOUTS_UNAVAILABLE",
            "Stripe is not configured on this server; payouts are made by bank",
        )
    })?;
    let account = match shop.stripe_account_id.clone() {
        Some(account) => account,
        None => {
            let owner = users::Entity::find_by_id(caller.id)
                .one(&state.db)
                .await?
                .ok_or_else(|| AppError::Unauthenticated("the account no longer exists".into()))?;
            let key = format!("account-{}", shop.id);
            let created = gateway
                .create_account(&owner.email, &shop.id.to_string(), &key)
                .await?;
            // Conditional, so a racing request cannot replace the account just stored.
            shops::Entity::update_many()
                .col_expr(
                    shops::Column::StripeAccountId,
                    Expr::value(Some(created.clone())),
                )
                .filter(shops::Column::Id.eq(shop.id))
                .filter(shops::Column::StripeAccountId.is_null())
                .exec(&state.db)
                .await?;
            shops::Entity::find_by_id(shop.id)
                .one(&state.db)
                .await?
                .and_then(|s| s.stripe_account_id)
                .unwrap_or(created)
        }
    };
    let link = gateway
        .onboarding_link(&account, return_url, refresh_url)
        .await?;
    Ok((account, link))
}

/// Sets a shop's commission override (basis points), or clears it with `None`. Admins only;
/// orders already placed keep the commission frozen on them.
pub async fn set_commission(
    state: &AppState,
    caller: CurrentUser,
    shop_id: Uuid,
    basis_points: Option<i32>,
) -> AppResult<shops::Model> {
    caller.require_role(&[Role::Admin])?;
    if basis_points.is_some_and(|b| !(0..=10_000).contains(&b)) {
        return Err(AppError::invalid(
            "basisPoints",
            "a commission is between 0 and 10000 basis points",
        ));
    }
    let changed = shops::Entity::update_many()
        .col_expr(shops::Column::CommissionBps, Expr::value(basis_points))
        .col_expr(shops::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(shops::Column::Id.eq(shop_id))
        .exec(&state.db)
        .await?
        .rows_affected;
    if changed != 1 {
        return Err(AppError::NotFound("no such shop".into()));
    }
    shops::Entity::find_by_id(shop_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such shop".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn plans_zero_every_order_and_pay_the_total() {
        let (total, parts) = plan(&[(id(1), 9_000), (id(2), 4_500)]).expect("plan");
        assert_eq!(total, 13_500);
        assert!(parts.iter().all(|p| p.settlement_minor == 0));
        assert_eq!(parts.iter().map(|p| p.transfer_minor).sum::<i64>(), 13_500);
    }

    #[test]
    fn debt_is_settled_from_other_orders_first() {
        let (total, parts) =
            plan(&[(id(1), 1_000), (id(2), -1_500), (id(3), 2_000)]).expect("plan");
        assert_eq!(total, 1_500);
        let transfers: Vec<i64> = parts.iter().map(|p| p.transfer_minor).collect();
        assert_eq!(transfers, vec![0, 0, 1_500]);
        let settlements: Vec<i64> = parts.iter().map(|p| p.settlement_minor).collect();
        assert_eq!(settlements, vec![-1_000, 1_500, -500]);
        // Every order ends at zero.
        let nets = [1_000, -1_500, 2_000];
        for (part, net) in parts.iter().zip(nets) {
            assert_eq!(net + part.settlement_minor - part.transfer_minor, 0);
        }
    }

    #[test]
    fn nothing_to_pay_plans_nothing() {
        assert_eq!(plan(&[]), None);
        assert_eq!(plan(&[(id(1), 500), (id(2), -500)]), None);
    }
}
