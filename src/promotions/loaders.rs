//! Batched reads of the rows promotions own.

use sea_orm::DatabaseConnection;

use crate::{
    entities::{promotion_codes, promotion_products},
    kit::loaders::{Batch, by_column},
};

/// The promotion loaders of one request.
pub struct PromotionLoaders {
    /// Codes by id.
    pub codes: Batch<promotion_codes::Entity>,
    /// The products each code is limited to.
    pub products: Batch<promotion_products::Entity>,
}

impl PromotionLoaders {
    pub fn new(db: &DatabaseConnection) -> Self {
        Self {
            codes: by_column(
                db,
                promotion_codes::Column::Id,
                promotion_codes::Column::Id,
                |c: &promotion_codes::Model| c.id,
            ),
            products: by_column(
                db,
                promotion_products::Column::PromotionId,
                promotion_products::Column::Id,
                |p: &promotion_products::Model| p.promotion_id,
            ),
        }
    }
}
