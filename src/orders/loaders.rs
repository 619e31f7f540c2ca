//! Per-request batching of order rows: lines and events by order.

use sea_orm::DatabaseConnection;

use crate::{
    entities::{order_events, order_lines},
    kit::loaders::{Batch, by_column},
};

/// The order loaders of one request.
pub struct OrderLoaders {
    pub lines: Batch<order_lines::Entity>,
    pub events: Batch<order_events::Entity>,
}

impl OrderLoaders {
    pub fn new(db: &DatabaseConnection) -> Self {
        Self {
            lines: by_column(
                db,
                order_lines::Column::OrderId,
                order_lines::Column::Position,
                |l: &order_lines::Model| l.order_id,
            ),
            events: by_column(
                db,
                order_events::Column::OrderId,
                order_events::Column::Id,
                |e: &order_events::Model| e.order_id,
            ),
        }
    }
}
