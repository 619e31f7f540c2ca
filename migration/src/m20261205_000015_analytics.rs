//! Analytics for artisans and the marketplace: counted events that have no row of their own
//! (product views, additions to carts), and daily rollups that answer every analytics query.
//! Rollups can always be rebuilt: events from `analytics_events`, sales from paid orders.

use sea_orm_migration::prelude::*;

use crate::ddl::{big, drop_tables, index, table, text, time, uuid_col, uuid_pk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        table(
            manager,
            "analytics_events",
            vec![
                uuid_pk("id"),
                // VIEW or ADD_TO_CART.
                text("kind", 16),
                uuid_col("shop_id"),
                uuid_col("product_id"),
                // UTC day, `YYYY-MM-DD`: sorts as it reads on every database.
                text("day", 10),
                // ISO 3166-1 alpha-2, empty when unknown.
                text("country", 2),
                text("channel", 100),
                big("count"),
                time("recorded_at"),
            ],
            vec![],
        )
        .await?;
        index(manager, "analytics_events", &["day"], false).await?;
        table(
            manager,
            "analytics_daily",
            vec![
                uuid_pk("id"),
                uuid_col("shop_id"),
                // The nil id for the row of whole orders (orders and their revenue); a
                // product's id for its views, additions, units and line revenue.
                uuid_col("product_id"),
                text("day", 10),
                text("country", 2),
                text("channel", 100),
                big("views"),
                big("add_to_carts"),
                big("orders"),
                big("revenue_minor"),
                big("product_orders"),
                big("units"),
                big("product_revenue_minor"),
            ],
            vec![],
        )
        .await?;
        index(
            manager,
            "analytics_daily",
            &["shop_id", "product_id", "day", "country", "channel"],
            true,
        )
        .await?;
        index(manager, "analytics_daily", &["shop_id", "day"], false).await?;
        index(manager, "analytics_daily", &["day"], false).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["analytics_daily", "analytics_events"]).await
    }
}
