//! Seasonal campaigns: a collection shown for a period, with a banner, a featured order and
//! an optional promotion code.

use sea_orm_migration::prelude::*;

use crate::ddl::{
    drop_tables, fk, index, int, table, text_null, time, uuid_col, uuid_null, uuid_pk,
};

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
            "campaigns",
            vec![
                uuid_pk("id"),
                uuid_col("collection_id"),
                time("starts_at"),
                time("ends_at"),
                text_null("banner_url", 2000),
                text_null("banner_alt", 300),
                int("position"),
                uuid_null("promotion_id"),
                time("created_at"),
                time("updated_at"),
            ],
            vec![
                fk(
                    "campaigns",
                    "collection_id",
                    "collections",
                    ForeignKeyAction::Cascade,
                ),
                fk(
                    "campaigns",
                    "promotion_id",
                    "promotion_codes",
                    ForeignKeyAction::SetNull,
                ),
            ],
        )
        .await?;
        // One campaign per collection: the collection is its slug, name and products.
        index(manager, "campaigns", &["collection_id"], true).await?;
        index(manager, "campaigns", &["ends_at"], false).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["campaigns"]).await
    }
}
