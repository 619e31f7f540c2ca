//! Reviews by verified buyers (one per delivered order line), the shop's public reply, reports
//! by anyone and hiding by admins; and on each product the running count, sum and score of
//! its visible ratings, kept in step by the same transaction as each review, for sorting and
//! filtering by rating.

use sea_orm_migration::prelude::*;

use crate::ddl::{
    add_column, drop_column, drop_tables, fk, index, int, long_text, table, text, text_null, time,
    time_null, uuid_col, uuid_null, uuid_pk,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn zero(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .integer()
        .not_null()
        .default(0)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        table(
            manager,
            "reviews",
            vec![
                uuid_pk("id"),
                uuid_col("product_id"),
                uuid_col("shop_id"),
                uuid_col("order_id"),
                uuid_col("order_line_id"),
                uuid_col("buyer_id"),
                int("rating"),
                long_text("body"),
                text("language", 35),
                // VISIBLE or HIDDEN (by an admin, with a reason).
                text("status", 12),
                text_null("hidden_reason", 500),
                time_null("hidden_at"),
                long_text("reply"),
                time_null("replied_at"),
                time("created_at"),
                time("updated_at"),
            ],
            vec![
                fk(
                    "reviews",
                    "product_id",
                    "products",
                    ForeignKeyAction::Cascade,
                ),
                fk(
                    "reviews",
                    "order_line_id",
                    "order_lines",
                    ForeignKeyAction::Cascade,
                ),
                fk("reviews", "buyer_id", "users", ForeignKeyAction::Cascade),
            ],
        )
        .await?;
        // One review per order line, whoever races.
        index(manager, "reviews", &["order_line_id"], true).await?;
        index(manager, "reviews", &["product_id", "status"], false).await?;
        index(manager, "reviews", &["shop_id", "status"], false).await?;
        table(
            manager,
            "review_reports",
            vec![
                uuid_pk("id"),
                uuid_col("review_id"),
                uuid_null("reporter_id"),
                // Who reported when not signed in: their client address, for one report each.
                text("reporter_key", 100),
                text("reason", 500),
                time("created_at"),
            ],
            vec![fk(
                "review_reports",
                "review_id",
                "reviews",
                ForeignKeyAction::Cascade,
            )],
        )
        .await?;
        index(
            manager,
            "review_reports",
            &["review_id", "reporter_key"],
            true,
        )
        .await?;
        add_column(manager, "products", zero("rating_count")).await?;
        add_column(manager, "products", zero("rating_sum")).await?;
        // The average × 100, rounded down; 0 without reviews.
        add_column(manager, "products", zero("rating_score")).await?;
        index(manager, "products", &["rating_score", "id"], false).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_column(manager, "products", "rating_score").await?;
        drop_column(manager, "products", "rating_sum").await?;
        drop_column(manager, "products", "rating_count").await?;
        drop_tables(manager, &["review_reports", "reviews"]).await
    }
}
