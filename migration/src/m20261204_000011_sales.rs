//! Sales: a shop lowers prices for a period, by a percentage or to a sale price per variant.

use sea_orm_migration::prelude::*;

use crate::ddl::{drop_tables, fk, index, table, text, time, uuid_col, uuid_null, uuid_pk};

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
            "sales",
            vec![
                uuid_pk("id"),
                uuid_col("shop_id"),
                text("title", 120),
                ColumnDef::new(Alias::new("percent_off"))
                    .integer()
                    .null()
                    .to_owned(),
                time("starts_at"),
                time("ends_at"),
                time("created_at"),
            ],
            vec![fk("sales", "shop_id", "shops", ForeignKeyAction::Cascade)],
        )
        .await?;
        index(manager, "sales", &["shop_id", "ends_at"], false).await?;
        table(
            manager,
            "sale_items",
            vec![
                uuid_pk("id"),
                uuid_col("sale_id"),
                uuid_col("product_id"),
                // Null: every variant of the product.
                uuid_null("variant_id"),
                ColumnDef::new(Alias::new("sale_price_minor"))
                    .big_integer()
                    .null()
                    .to_owned(),
            ],
            vec![
                fk("sale_items", "sale_id", "sales", ForeignKeyAction::Cascade),
                fk(
                    "sale_items",
                    "product_id",
                    "products",
                    ForeignKeyAction::Cascade,
                ),
            ],
        )
        .await?;
        index(manager, "sale_items", &["product_id"], false).await?;
        index(manager, "sale_items", &["sale_id"], false).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["sale_items", "sales"]).await
    }
}
