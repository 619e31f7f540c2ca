//! What Stripe could not be asked for is asked again, with the same idempotency keys.

use chrono::Utc;

use super::{payouts, refunds};
use crate::{error::AppResult, state::AppState};

/// Sends again what Stripe could not be asked for (card refunds, payout transfers) and was
/// last touched more than `age` ago. Safe on several servers at once: every call carries the
/// same idempotency key as the first and every settlement is conditional.
pub async fn resubmit_stale(state: &AppState, age: chrono::Duration) -> AppResult<usize> {
    if state.stripe.is_none() {
        return Ok(0);
    }
    let before = Utc::now() - age;
    Ok(refunds::resubmit(state, before).await? + payouts::resubmit(state, before).await?)
}
