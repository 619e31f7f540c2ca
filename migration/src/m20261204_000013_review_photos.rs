//! Photos on reviews: a buyer's own uploads, in order, each in one review.

use sea_orm_migration::prelude::*;

use crate::ddl::{drop_tables, fk, index, int, table, uuid_col, uuid_pk};

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
            "review_photos",
            vec![
                uuid_pk("id"),
                uuid_col("review_id"),
                uuid_col("image_id"),
                int("position"),
            ],
            vec![
                fk(
                    "review_photos",
                    "review_id",
                    "reviews",
                    ForeignKeyAction::Cascade,
                ),
                fk(
                    "review_photos",
                    "image_id",
                    "images",
                    ForeignKeyAction::Cascade,
                ),
            ],
        )
        .await?;
        index(manager, "review_photos", &["image_id"], true).await?;
        index(manager, "review_photos", &["review_id", "position"], false).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["review_photos"]).await
    }
}
