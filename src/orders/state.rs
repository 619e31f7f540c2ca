//! The order state machine, in one place.
//!
//! `PENDING_PAYMENT -> PAID -> SHIPPED -> DELIVERED`; `PENDING_PAYMENT -> CANCELLED` (buyer,
//! expiry, admin); `PAID -> CANCELLED` (the shop cannot fulfil, admins; always through a full
//! refund in `payments::refunds`); `CANCELLED -> PENDING_PAYMENT` (admins reinstating a
//! never-paid order whose bank transfer arrived late, if its stock can be taken again).
//! Anything else is a `CONFLICT`.

use uuid::Uuid;

use crate::{
    auth::CurrentUser,
    entities::{
        orders::{self, OrderStatus},
        users::Role,
    },
    error::{AppError, AppResult},
};

/// Who asks for a change, relative to the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Buyer,
    Shop,
    Admin,
    /// The server itself, e.g. expiring unpaid orders.
    System,
}

impl Party {
    /// The party a signed-in user is for an order whose shop `shop_owner` owns, if any:
    /// admins first, then the shop (an artisan buying from their own shop acts as the shop),
    /// then the buyer. Transitions, order views, payment visibility and the `orderUpdated`
    /// filter all ask this.
    pub fn of(caller: CurrentUser, order: &orders::Model, shop_owner: Uuid) -> Option<Self> {
        Self::of_ids(caller, order.buyer_id, shop_owner)
    }

    /// Whether `orderUpdated` tells the caller of a change: they are its buyer or its shop
    /// (`shop_owner` is the caller when they own the order's shop). Admins may read every
    /// order but hear only of their own, so the stream stays "my orders".
    pub fn hears_of(caller: CurrentUser, buyer: Uuid, shop_owner: Option<Uuid>) -> bool {
        let owner = shop_owner.unwrap_or(Uuid::nil());
        match Self::of_ids(caller, buyer, owner) {
            Some(Self::Buyer | Self::Shop) => true,
            Some(Self::Admin) => caller.id == buyer || caller.id == owner,
            _ => false,
        }
    }

    /// `of` when only the order's buyer and shop owner are known (e.g. from an event).
    pub fn of_ids(caller: CurrentUser, buyer: Uuid, shop_owner: Uuid) -> Option<Self> {
        if caller.role == Role::Admin {
            Some(Self::Admin)
        } else if caller.id == shop_owner {
            Some(Self::Shop)
        } else if caller.id == buyer {
            Some(Self::Buyer)
        } else {
            None
        }
    }
}

/// Checks a transition: `CONFLICT` when the order cannot move from its state to `to`, then
/// `FORBIDDEN` when this party may not make that move.
pub fn check(from: OrderStatus, to: OrderStatus, by: Party) -> AppResult<()> {
    use OrderStatus::*;
    let allowed_parties: &[Party] = match to {
        Paid => &[Party::Admin, Party::System],
        Shipped => &[Party::Shop, Party::Admin],
        Delivered => &[Party::Shop, Party::Buyer, Party::Admin],
        Cancelled => match from {
            PendingPayment => &[Party::Buyer, Party::Shop, Party::Admin, Party::System],
            // The system acts for a full refund (`payments::refunds`).
            _ => &[Party::System],
        },
        PendingPayment => &[Party::Admin],
    };
    let legal = matches!(
        (from, to),
        (PendingPayment, Paid)
            | (Paid, Shipped)
            | (Shipped, Delivered)
            | (PendingPayment, Cancelled)
            | (Paid, Cancelled)
            | (Cancelled, PendingPayment)
    );
    if !legal {
        return Err(AppError::Conflict(format!(
            "a {} order cannot become {}",
            name(from),
            name(to)
        )));
    }
    // A paid order is cancelled only by refunding it in full (`payments::refunds`), which
    // then acts as the system; a shop or an admin asking for the bare change is told how.
    if (from, to) == (Paid, Cancelled) && matches!(by, Party::Shop | Party::Admin) {
        return Err(AppError::Conflict(
            "a paid order is cancelled by refunding it in full".into(),
        ));
    }
    if allowed_parties.contains(&by) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "you cannot mark this order {}",
            name(to)
        )))
    }
}

pub fn name(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::PendingPayment => "PENDING_PAYMENT",
        OrderStatus::Paid => "PAID",
        OrderStatus::Shipped => "SHIPPED",
        OrderStatus::Delivered => "DELIVERED",
        OrderStatus::Cancelled => "CANCELLED",
    }
}

/// Whether leaving `from` for `to` gives the stock back (nothing was shipped).
pub fn returns_stock(from: OrderStatus, to: OrderStatus) -> bool {
    to == OrderStatus::Cancelled && matches!(from, OrderStatus::PendingPayment | OrderStatus::Paid)
}

/// Whether moving from `from` to `to` takes stock again (a reinstated order).
pub fn takes_stock(from: OrderStatus, to: OrderStatus) -> bool {
    (from, to) == (OrderStatus::Cancelled, OrderStatus::PendingPayment)
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus::*;

    fn code(r: AppResult<()>) -> &'static str {
        r.err().map_or("OK", |e| e.code())
    }

    #[test]
    fn the_happy_path() {
        assert_eq!(code(check(PendingPayment, Paid, Party::Admin)), "OK");
        assert_eq!(code(check(Paid, Shipped, Party::Shop)), "OK");
        assert_eq!(code(check(Shipped, Delivered, Party::Buyer)), "OK");
        assert_eq!(code(check(Shipped, Delivered, Party::Shop)), "OK");
    }

    #[test]
    fn illegal_moves_conflict() {
        assert_eq!(
            code(check(PendingPayment, Shipped, Party::Shop)),
            "CONFLICT"
        );
        assert_eq!(code(check(Delivered, Cancelled, Party::Admin)), "CONFLICT");
        assert_eq!(code(check(Cancelled, Paid, Party::Admin)), "CONFLICT");
        assert_eq!(
            code(check(Shipped, PendingPayment, Party::Admin)),
            "CONFLICT"
        );
        assert_eq!(code(check(Shipped, Shipped, Party::Shop)), "CONFLICT");
    }

    #[test]
    fn parties_are_limited() {
        assert_eq!(code(check(PendingPayment, Paid, Party::Buyer)), "FORBIDDEN");
        assert_eq!(code(check(PendingPayment, Paid, Party::Shop)), "FORBIDDEN");
        assert_eq!(code(check(Paid, Shipped, Party::Buyer)), "FORBIDDEN");
        assert_eq!(code(check(Paid, Cancelled, Party::Buyer)), "FORBIDDEN");
        assert_eq!(code(check(PendingPayment, Cancelled, Party::Buyer)), "OK");
        // Only an admin reinstates a cancelled order, and stock is taken again.
        assert_eq!(code(check(Cancelled, PendingPayment, Party::Admin)), "OK");
        assert_eq!(
            code(check(Cancelled, PendingPayment, Party::Buyer)),
            "FORBIDDEN"
        );
        assert!(takes_stock(Cancelled, PendingPayment));
    }

    #[test]
    fn parties_rank_admin_then_shop_then_buyer() {
        use crate::auth::CurrentUser;
        use uuid::Uuid;
        let (me, other) = (Uuid::now_v7(), Uuid::now_v7());
        let user = |role| CurrentUser { id: me, role };
        assert_eq!(
            Party::of_ids(user(Role::Artisan), me, me),
            Some(Party::Shop)
        );
        assert_eq!(
            Party::of_ids(user(Role::Buyer), me, other),
            Some(Party::Buyer)
        );
        assert_eq!(Party::of_ids(user(Role::Buyer), other, other), None);
        assert_eq!(
            Party::of_ids(user(Role::Admin), other, other),
            Some(Party::Admin)
        );
        // The live stream is "my orders", for admins too.
        assert!(!Party::hears_of(user(Role::Admin), other, None));
        assert!(Party::hears_of(user(Role::Admin), me, None));
        assert!(Party::hears_of(user(Role::Artisan), other, Some(me)));
    }

    #[test]
    fn a_paid_order_is_cancelled_only_through_a_full_refund() {
        assert_eq!(code(check(Paid, Cancelled, Party::Shop)), "CONFLICT");
        assert_eq!(code(check(Paid, Cancelled, Party::Admin)), "CONFLICT");
        assert_eq!(code(check(Paid, Cancelled, Party::System)), "OK");
    }

    #[test]
    fn stock_comes_back_only_for_unshipped_cancellations() {
        assert!(returns_stock(PendingPayment, Cancelled));
        assert!(returns_stock(Paid, Cancelled));
        assert!(!returns_stock(Paid, Shipped));
    }
}
