//! Who sees which orders: a buyer their own, an artisan their shop's, an admin all.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Select};

use crate::{
    auth::CurrentUser,
    catalog::shops::shop_of,
    entities::{
        orders::{self, OrderStatus},
        users::Role,
    },
    error::{AppError, AppResult},
};

/// Which list of orders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The caller's own purchases.
    Bought,
    /// Orders to the caller's shop.
    Shop,
    /// Every order (admins).
    All,
}

/// The orders the caller may list in `scope`, optionally of one status.
pub async fn orders_in(
    db: &impl sea_orm::ConnectionTrait,
    caller: CurrentUser,
    scope: Scope,
    status: Option<OrderStatus>,
) -> AppResult<Select<orders::Entity>> {
    let mut select = orders::Entity::find();
    select = match scope {
        Scope::Bought => select.filter(orders::Column::BuyerId.eq(caller.id)),
        Scope::Shop => {
            let shop = shop_of(db, caller.id)
                .await?
                .ok_or_else(|| AppError::Forbidden("you have no shop".into()))?;
            select.filter(orders::Column::ShopId.eq(shop.id))
        }
        Scope::All => {
            caller.require_role(&[Role::Admin])?;
            select
        }
    };
    if let Some(status) = status {
        select = select.filter(orders::Column::Status.eq(status));
    }
    Ok(select)
}
