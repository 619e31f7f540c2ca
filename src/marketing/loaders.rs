//! Batched reads of ratings: for a page of products (or shops), one grouped query over their
//! visible reviews, so the count, average and distribution always agree with the reviews a
//! reader can list.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::{
    entities::{
        collections, favourites, products, review_photos,
        reviews::{self, ReviewStatus},
        users,
    },
    error::{AppError, AppResult},
    kit::loaders::{Batch, by_column},
};

/// Visible ratings of one product or shop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rating {
    pub count: i64,
    pub sum: i64,
    /// How many reviews gave 1, 2, 3, 4 and 5 stars.
    pub distribution: [i64; 5],
}

impl Rating {
    /// The mean rating, rounded to two decimals; `None` without reviews.
    pub fn average(&self) -> Option<f64> {
        (self.count > 0).then(|| (self.sum as f64 / self.count as f64 * 100.0).round() / 100.0)
    }
}

/// Ratings grouped by a column of `reviews` (the product or the shop).
pub struct Ratings {
    db: DatabaseConnection,
    by: reviews::Column,
}

impl Loader<Uuid> for Ratings {
    type Value = Rating;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Rating>, Self::Error> {
        let rows: Vec<(Uuid, i32, i64)> = reviews::Entity::find()
            .select_only()
            .column(self.by)
            .column(reviews::Column::Rating)
            .column_as(reviews::Column::Id.count(), "n")
            .filter(self.by.is_in(keys.to_vec()))
            .filter(reviews::Column::Status.eq(ReviewStatus::Visible))
            .group_by(self.by)
            .group_by(reviews::Column::Rating)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut out: HashMap<Uuid, Rating> = HashMap::new();
        for (key, stars, n) in rows {
            let rating = out.entry(key).or_default();
            rating.count += n;
            rating.sum += i64::from(stars) * n;
            if let Some(slot) = usize::try_from(stars - 1)
                .ok()
                .and_then(|i| rating.distribution.get_mut(i))
            {
                *slot += n;
            }
        }
        Ok(out)
    }
}

/// How many favourites name each product (or shop).
pub struct FavouriteCounts {
    db: DatabaseConnection,
    by: favourites::Column,
}

impl Loader<Uuid> for FavouriteCounts {
    type Value = i64;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, i64>, Self::Error> {
        let rows: Vec<(Uuid, i64)> = favourites::Entity::find()
            .select_only()
            .column(self.by)
            .column_as(favourites::Column::Id.count(), "n")
            .filter(self.by.is_in(keys.to_vec()))
            .group_by(self.by)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().collect())
    }
}

/// The marketing loaders of one request.
pub struct MarketingLoaders {
    pub product_ratings: DataLoader<Ratings, HashMapCache>,
    pub shop_ratings: DataLoader<Ratings, HashMapCache>,
    /// Review authors, for the names reviews are signed with.
    pub authors: Batch<users::Entity>,
    /// Saved products, for a page of favourites.
    pub products: Batch<products::Entity>,
    pub product_favourites: DataLoader<FavouriteCounts, HashMapCache>,
    pub shop_favourites: DataLoader<FavouriteCounts, HashMapCache>,
    /// The collections campaigns show.
    pub collections: Batch<collections::Entity>,
    /// Each review's photos, in order.
    pub review_photos: Batch<review_photos::Entity>,
}

impl MarketingLoaders {
    pub fn new(db: &DatabaseConnection) -> Self {
        let loader = |by| {
            DataLoader::with_cache(
                Ratings { db: db.clone(), by },
                tokio::spawn,
                HashMapCache::default(),
            )
        };
        let counts = |by| {
            DataLoader::with_cache(
                FavouriteCounts { db: db.clone(), by },
                tokio::spawn,
                HashMapCache::default(),
            )
        };
        Self {
            product_ratings: loader(reviews::Column::ProductId),
            shop_ratings: loader(reviews::Column::ShopId),
            authors: by_column(
                db,
                users::Column::Id,
                users::Column::Id,
                |u: &users::Model| u.id,
            ),
            products: by_column(
                db,
                products::Column::Id,
                products::Column::Id,
                |p: &products::Model| p.id,
            ),
            product_favourites: counts(favourites::Column::ProductId),
            shop_favourites: counts(favourites::Column::ShopId),
            collections: by_column(
                db,
                collections::Column::Id,
                collections::Column::Id,
                |c: &collections::Model| c.id,
            ),
            review_photos: by_column(
                db,
                review_photos::Column::ReviewId,
                review_photos::Column::Position,
                |p: &review_photos::Model| p.review_id,
            ),
        }
    }
}

/// The rating of `key` through `loader` (empty when nobody reviewed it).
pub async fn rating(loader: &DataLoader<Ratings, HashMapCache>, key: Uuid) -> AppResult<Rating> {
    Ok(loader
        .load_one(key)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("loading ratings: {e}")))?
        .unwrap_or_default())
}

/// How many favourites name `key`, through `loader`.
pub async fn favourite_count(
    loader: &DataLoader<FavouriteCounts, HashMapCache>,
    key: Uuid,
) -> AppResult<i64> {
    Ok(loader
        .load_one(key)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("loading favourites: {e}")))?
        .unwrap_or(0))
}
