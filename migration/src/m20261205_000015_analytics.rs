//! Analytics for artisans and the marketplace: counted events that have no row of their own
//! (product views, additions to carts), and daily rollups that answer every analytics query.
//! Rollups can always be rebuilt: events from `analytics_events`, sales from paid orders.
//! A rollup row sums one breakdown of one shop's day; its unique index leads with what every
//! query filters on (shop, breakdown, day), so a query reads one contiguous range.

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
                // The breakdown the row belongs to: T (the shop's day), C (by buyer country),
                // H (by channel) or P (by product). Each query reads one, so a year of a
                // busy shop is a few hundred rows, not one per product, country and channel.
                text("dim", 1),
                // A product's id in P rows, the nil id otherwise.
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
            &["shop_id", "dim", "day", "product_id", "country", "channel"],
            true,
        )
        .await?;
        index(manager, "analytics_daily", &["dim", "day"], false).await?;
        // The same key with every sum: queries read the index alone, never the table (three
        // times faster for a busy shop's year on SQLite).
        let mut covering = Index::create();
        covering
            .name("analytics_daily_covering_idx")
            .table(Alias::new("analytics_daily"));
        for col in [
            "shop_id",
            "dim",
            "day",
            "product_id",
            "country",
            "channel",
            "views",
            "add_to_carts",
            "orders",
            "revenue_minor",
            "product_orders",
            "units",
            "product_revenue_minor",
        ] {
            covering.col(Alias::new(col));
        }
        manager.create_index(covering.to_owned()).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["analytics_daily", "analytics_events"]).await
    }
}
