//! Root subscription fields of the orders GraphQL.

use super::types::*;
use crate::{
    auth::CallerExt,
    catalog::shops::shop_of,
    entities::orders::{self as order_rows},
    events::DomainEvent,
    kit::View,
    orders::state::Party,
    state::AppState,
};
use async_graphql::{Context, Result, Subscription};
use futures_util::{Stream, StreamExt};
use sea_orm::EntityTrait;

#[derive(Default)]
pub struct OrderSubscription;

#[Subscription]
impl OrderSubscription {
    /// Orders of the signed-in user each time they change: as buyer, or as the shop's owner.
    /// Works across servers when they share PostgreSQL.
    async fn order_updated(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = Order>> {
        let state = ctx.data::<AppState>()?;
        let me = ctx.current_user()?;
        let my_shop = shop_of(&state.db, me.id).await?.map(|s| s.id);
        let view = View::new(ctx, None, None)?;
        let db = state.db.clone();
        Ok(state.events.stream().filter_map(move |event| {
            let (db, view) = (db.clone(), view.clone());
            async move {
                match event {
                    DomainEvent::OrderUpdated {
                        order_id,
                        buyer_id,
                        shop_id,
                    } if Party::hears_of(me, buyer_id, (Some(shop_id) == my_shop).then_some(me.id)) => {
                        match order_rows::Entity::find_by_id(order_id).one(&db).await {
                            Ok(order) => order.map(|o| Order(o, view)),
                            Err(err) => {
                                // The event is skipped; the next one re-reads the order.
                                tracing::error!(error = %err, %order_id, "orderUpdated could not read the order");
                                None
                            }
                        }
                    }
                    _ => None,
                }
            }
        }))
    }
}
