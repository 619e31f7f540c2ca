//! Per-request batching: every to-one and to-many lookup of the catalogue and of orders goes
//! through these, so a page costs a fixed handful of queries whatever its size.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder};
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::{rates, taxonomy};
use crate::{
    entities::{
        categories, makers, order_events, order_lines, payments, product_images, product_makers,
        product_translations, product_variants, refunds, shops,
    },
    error::{AppError, AppResult},
    money::Rates,
};

/// Rows of `E` grouped by a foreign-key column, ordered by `order`.
pub struct ByColumn<E: EntityTrait> {
    db: DatabaseConnection,
    column: E::Column,
    order: E::Column,
    key: fn(&E::Model) -> Uuid,
}

impl<E> Loader<Uuid> for ByColumn<E>
where
    E: EntityTrait,
    E::Model: Send + Sync + Clone,
    E::Column: Send + Sync,
{
    type Value = Vec<E::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = E::find()
            .filter(self.column.is_in(keys.to_vec()))
            .order_by_asc(self.order)
            .all(&self.db)
            .await?;
        let mut grouped: HashMap<Uuid, Vec<E::Model>> = HashMap::new();
        for row in rows {
            grouped.entry((self.key)(&row)).or_default().push(row);
        }
        Ok(grouped)
    }
}

/// A batching loader that also remembers, for the rest of the request, what it loaded.
pub type Batch<E> = DataLoader<ByColumn<E>, HashMapCache>;

fn by_column<E: EntityTrait>(
    db: &DatabaseConnection,
    column: E::Column,
    order: E::Column,
    key: fn(&E::Model) -> Uuid,
) -> Batch<E>
where
    E::Model: Send + Sync + Clone,
    E::Column: Send + Sync,
{
    DataLoader::with_cache(
        ByColumn {
            db: db.clone(),
            column,
            order,
            key,
        },
        tokio::spawn,
        HashMapCache::default(),
    )
}

/// The loaders of one request.
pub struct Loaders {
    db: DatabaseConnection,
    pub shops: Batch<shops::Entity>,
    pub makers: Batch<makers::Entity>,
    pub shop_makers: Batch<makers::Entity>,
    pub translations: Batch<product_translations::Entity>,
    pub variants: Batch<product_variants::Entity>,
    pub images: Batch<product_images::Entity>,
    pub product_makers: Batch<product_makers::Entity>,
    pub order_lines: Batch<order_lines::Entity>,
    pub order_events: Batch<order_events::Entity>,
    /// Payments by checkout.
    pub payments: Batch<payments::Entity>,
    /// Refunds by order.
    pub refunds: Batch<refunds::Entity>,
    categories: OnceCell<Vec<categories::Model>>,
    rates: OnceCell<Rates>,
}

impl Loaders {
    pub fn new(db: &DatabaseConnection) -> Self {
        Self {
            db: db.clone(),
            shops: by_column(
                db,
                shops::Column::Id,
                shops::Column::Id,
                |s: &shops::Model| s.id,
            ),
            makers: by_column(
                db,
                makers::Column::Id,
                makers::Column::Id,
                |m: &makers::Model| m.id,
            ),
            shop_makers: by_column(
                db,
                makers::Column::ShopId,
                makers::Column::Id,
                |m: &makers::Model| m.shop_id,
            ),
            translations: by_column(
                db,
                product_translations::Column::ProductId,
                product_translations::Column::Language,
                |t: &product_translations::Model| t.product_id,
            ),
            variants: by_column(
                db,
                product_variants::Column::ProductId,
                product_variants::Column::Position,
                |v: &product_variants::Model| v.product_id,
            ),
            images: by_column(
                db,
                product_images::Column::ProductId,
                product_images::Column::Position,
                |i: &product_images::Model| i.product_id,
            ),
            product_makers: by_column(
                db,
                product_makers::Column::ProductId,
                product_makers::Column::Position,
                |pm: &product_makers::Model| pm.product_id,
            ),
            order_lines: by_column(
                db,
                order_lines::Column::OrderId,
                order_lines::Column::Position,
                |l: &order_lines::Model| l.order_id,
            ),
            order_events: by_column(
                db,
                order_events::Column::OrderId,
                order_events::Column::Id,
                |e: &order_events::Model| e.order_id,
            ),
            payments: by_column(
                db,
                payments::Column::CheckoutId,
                payments::Column::Id,
                |p: &payments::Model| p.checkout_id,
            ),
            refunds: by_column(
                db,
                refunds::Column::OrderId,
                refunds::Column::Id,
                |r: &refunds::Model| r.order_id,
            ),
            categories: OnceCell::new(),
            rates: OnceCell::new(),
        }
    }

    /// The rows for `key` (empty when there are none).
    pub async fn many<E>(loader: &Batch<E>, key: Uuid) -> AppResult<Vec<E::Model>>
    where
        E: EntityTrait,
        E::Model: Send + Sync + Clone,
        E::Column: Send + Sync,
    {
        Ok(loader
            .load_one(key)
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("loading: {e}")))?
            .unwrap_or_default())
    }

    /// The row with primary key `key`.
    pub async fn one<E>(loader: &Batch<E>, key: Uuid) -> AppResult<Option<E::Model>>
    where
        E: EntityTrait,
        E::Model: Send + Sync + Clone,
        E::Column: Send + Sync,
    {
        Ok(Self::many(loader, key).await?.into_iter().next())
    }

    /// Every category, read once per request.
    pub async fn categories(&self) -> AppResult<&[categories::Model]> {
        self.categories
            .get_or_try_init(|| taxonomy::all_categories(&self.db))
            .await
            .map(Vec::as_slice)
    }

    /// Every exchange rate, read once per request.
    pub async fn rates(&self) -> AppResult<&Rates> {
        self.rates.get_or_try_init(|| rates::load(&self.db)).await
    }
}
