//! Batched reads of the photos this domain owns.

use sea_orm::DatabaseConnection;

use crate::{
    entities::images,
    kit::loaders::{Batch, by_column},
};

/// The media loaders of one request.
pub struct MediaLoaders {
    pub images: Batch<images::Entity>,
}

impl MediaLoaders {
    pub fn new(db: &DatabaseConnection) -> Self {
        Self {
            images: by_column(
                db,
                images::Column::Id,
                images::Column::Id,
                |i: &images::Model| i.id,
            ),
        }
    }
}
