//! Payments: card checkouts through Stripe, webhooks, refunds, the per-shop ledger and
//! payouts to artisans. The platform collects every payment and owes each shop its share.

pub mod bank;
pub mod card;
pub mod collect;
pub mod ledger;
pub mod loaders;
pub mod payouts;
mod records;
pub mod refunds;
mod resend;
pub mod reviews;
pub mod webhook;

pub use records::{of_checkout, record_bank_transfer, record_card_intent};
pub use resend::resubmit_stale;
