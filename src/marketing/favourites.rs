//! Favourites: products and shops a buyer saves to come back to. Guests save under their
//! cart token; at sign-in their favourites move to the account (before the guest cart goes).

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, Select, Set};
use uuid::Uuid;

use crate::{
    entities::{
        favourites,
        products::{self, ProductStatus},
        shops::{self, ShopStatus},
    },
    error::{AppError, AppResult},
    orders::cart::{self, CartOwner},
    state::AppState,
};

/// What is saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Product(Uuid),
    Shop(Uuid),
}

impl Target {
    fn condition(self) -> Condition {
        match self {
            Self::Product(id) => Condition::all().add(favourites::Column::ProductId.eq(id)),
            Self::Shop(id) => Condition::all().add(favourites::Column::ShopId.eq(id)),
        }
    }
}

fn owned_by(owner: CartOwner) -> Condition {
    match owner {
        CartOwner::User(id) => Condition::all().add(favourites::Column::UserId.eq(id)),
        CartOwner::Guest(id) => Condition::all().add(favourites::Column::GuestCartId.eq(id)),
    }
}

/// Saves a published product or an open shop; saving it again returns the same favourite.
pub async fn add(
    state: &AppState,
    owner: CartOwner,
    target: Target,
) -> AppResult<favourites::Model> {
    let public = match target {
        Target::Product(id) => public_product(&state.db, id).await?.is_some(),
        Target::Shop(id) => public_shop(&state.db, id).await?.is_some(),
    };
    if !public {
        return Err(AppError::NotFound(match target {
            Target::Product(_) => "no such product".into(),
            Target::Shop(_) => "no such shop".into(),
        }));
    }
    let (user_id, guest_cart_id) = match owner {
        CartOwner::User(id) => (Some(id), None),
        CartOwner::Guest(id) => (None, Some(id)),
    };
    let (product_id, shop_id) = match target {
        Target::Product(id) => (Some(id), None),
        Target::Shop(id) => (None, Some(id)),
    };
    let inserted = favourites::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        guest_cart_id: Set(guest_cart_id),
        product_id: Set(product_id),
        shop_id: Set(shop_id),
        created_at: Set(Utc::now()),
    }
    .insert(&state.db)
    .await;
    match inserted {
        Ok(saved) => Ok(saved),
        // Saved already (perhaps by a double tap racing this one): that one stands.
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            favourites::Entity::find()
                .filter(owned_by(owner))
                .filter(target.condition())
                .one(&state.db)
                .await?
                .ok_or_else(|| AppError::Conflict("the favourite changed meanwhile".into()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Forgets a favourite; whether there was one.
pub async fn remove(state: &AppState, owner: CartOwner, target: Target) -> AppResult<bool> {
    let gone = favourites::Entity::delete_many()
        .filter(owned_by(owner))
        .filter(target.condition())
        .exec(&state.db)
        .await?;
    Ok(gone.rows_affected > 0)
}

/// The owner's favourites (newest first when paged so).
pub fn list(owner: CartOwner) -> Select<favourites::Entity> {
    favourites::Entity::find().filter(owned_by(owner))
}

/// Moves a guest's favourites to the account signing in; ones the account has already are
/// dropped. Returns how many moved. An unknown token moves nothing.
pub async fn merge_guest(state: &AppState, token: &str, user: Uuid) -> AppResult<usize> {
    let Ok(guest) = cart::guest_cart(&state.db, token).await else {
        return Ok(0);
    };
    let txn = crate::db::begin_write(&state.db).await?;
    let theirs = favourites::Entity::find()
        .filter(favourites::Column::GuestCartId.eq(guest))
        .all(&txn)
        .await?;
    let mine = favourites::Entity::find()
        .filter(favourites::Column::UserId.eq(user))
        .all(&txn)
        .await?;
    let (mut moved, mut dropped) = (0, 0);
    for favourite in theirs {
        let duplicate = mine.iter().any(|m| {
            (m.product_id.is_some() && m.product_id == favourite.product_id)
                || (m.shop_id.is_some() && m.shop_id == favourite.shop_id)
        });
        if duplicate {
            favourites::Entity::delete_by_id(favourite.id)
                .exec(&txn)
                .await?;
            dropped += 1;
        } else {
            let mut active: favourites::ActiveModel = favourite.into();
            active.user_id = Set(Some(user));
            active.guest_cart_id = Set(None);
            active.update(&txn).await?;
            moved += 1;
        }
    }
    txn.commit().await?;
    if dropped > 0 {
        // Public favourite counts went down, through a sign-in (which otherwise leaves the
        // response cache alone).
        state.catalogue_changed();
    }
    Ok(moved)
}

/// Whether a saved product is shown: it is published (a favourite outlives publication).
pub fn product_shown(product: &products::Model) -> bool {
    product.status == ProductStatus::Active
}

/// Whether a saved shop is shown: it is open.
pub fn shop_shown(shop: &shops::Model) -> bool {
    shop.status == ShopStatus::Active
}

/// A product, if it is published.
async fn public_product(
    db: &impl sea_orm::ConnectionTrait,
    id: Uuid,
) -> AppResult<Option<products::Model>> {
    Ok(products::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(product_shown))
}

/// A shop, if it is open.
async fn public_shop(
    db: &impl sea_orm::ConnectionTrait,
    id: Uuid,
) -> AppResult<Option<shops::Model>> {
    Ok(shops::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(shop_shown))
}
