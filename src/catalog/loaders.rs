//! Per-request batching of the catalogue's rows: every to-one and to-many lookup goes through
//! these, so a page costs a fixed handful of queries whatever its size.

use sea_orm::DatabaseConnection;
use tokio::sync::OnceCell;

use super::taxonomy;
use crate::{
    entities::{
        categories, makers, product_images, product_makers, product_translations, product_variants,
        shops,
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
    categories: OnceCell<Vec<categories::Model>>,
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
            categories: OnceCell::new(),
        }
    }

    /// Every category, read once per request.
    pub async fn categories(&self) -> AppResult<&[categories::Model]> {
        self.categories
            .get_or_try_init(|| taxonomy::all_categories(&self.db))
            .await
            .map(Vec::as_slice)
    }
}
