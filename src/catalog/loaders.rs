//! Per-request batching of the catalogue's rows: every to-one and to-many lookup goes through
//! these, so a page costs a fixed handful of queries whatever its size.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use sea_orm::DatabaseConnection;
use tokio::sync::OnceCell;
use uuid::Uuid;

use super::{sales, taxonomy};
use crate::{
    entities::{
        categories, makers, product_images, product_makers, product_translations, product_variants,
        sale_items, shops,
    },
    error::AppResult,
    kit::loaders::{Batch, by_column},
};

/// The catalogue's loaders of one request.
pub struct Loaders {
    db: DatabaseConnection,
    pub shops: Batch<shops::Entity>,
    pub makers: Batch<makers::Entity>,
    pub shop_makers: Batch<makers::Entity>,
    pub translations: Batch<product_translations::Entity>,
    pub variants: Batch<product_variants::Entity>,
    pub images: Batch<product_images::Entity>,
    pub product_makers: Batch<product_makers::Entity>,
    /// Each product's live sale offers.
    pub sale_offers: DataLoader<SaleOffers, HashMapCache>,
    /// Each sale's items, for the shop managing it.
    pub sale_items: Batch<sale_items::Entity>,
    categories: OnceCell<Vec<categories::Model>>,
}

/// Live sale offers by product, read at the moment of the request.
pub struct SaleOffers {
    db: DatabaseConnection,
    now: chrono::DateTime<chrono::Utc>,
}

impl Loader<Uuid> for SaleOffers {
    type Value = Vec<sales::Offer>;
    type Error = Arc<crate::error::AppError>;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        sales::live_offers(&self.db, keys, self.now)
            .await
            .map_err(Arc::new)
    }
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
            sale_items: by_column(
                db,
                sale_items::Column::SaleId,
                sale_items::Column::Id,
                |i: &sale_items::Model| i.sale_id,
            ),
            sale_offers: DataLoader::with_cache(
                SaleOffers {
                    db: db.clone(),
                    now: chrono::Utc::now(),
                },
                tokio::spawn,
                HashMapCache::default(),
            ),
            categories: OnceCell::new(),
        }
    }

    /// A product's live sale offers (empty when none).
    pub async fn offers(&self, product: Uuid) -> AppResult<Vec<sales::Offer>> {
        Ok(self
            .sale_offers
            .load_one(product)
            .await
            .map_err(|e| crate::error::AppError::Internal(anyhow::anyhow!("{e:?}")))?
            .unwrap_or_default())
    }

    /// Every category, read once per request.
    pub async fn categories(&self) -> AppResult<&[categories::Model]> {
        self.categories
            .get_or_try_init(|| taxonomy::all_categories(&self.db))
            .await
            .map(Vec::as_slice)
    }
}
