//! Favourites: products and shops a buyer saved, or a guest saved under their cart token
//! (moved to the account at sign-in).

use sea_orm_migration::prelude::*;

use crate::ddl::{drop_tables, fk, index, table, time, uuid_null, uuid_pk};

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
            "favourites",
            vec![
                uuid_pk("id"),
                // Exactly one of the owners, and exactly one of the targets.
                uuid_null("user_id"),
                uuid_null("guest_cart_id"),
                uuid_null("product_id"),
                uuid_null("shop_id"),
                time("created_at"),
            ],
            vec![
                fk("favourites", "user_id", "users", ForeignKeyAction::Cascade),
                fk(
                    "favourites",
                    "guest_cart_id",
                    "guest_carts",
                    ForeignKeyAction::Cascade,
                ),
                fk(
                    "favourites",
                    "product_id",
                    "products",
                    ForeignKeyAction::Cascade,
                ),
                fk("favourites", "shop_id", "shops", ForeignKeyAction::Cascade),
            ],
        )
        .await?;
        // NULLs are distinct in unique indexes on both databases: each pair constrains only
        // the rows that have both.
        index(manager, "favourites", &["user_id", "product_id"], true).await?;
        index(manager, "favourites", &["user_id", "shop_id"], true).await?;
        index(
            manager,
            "favourites",
            &["guest_cart_id", "product_id"],
            true,
        )
        .await?;
        index(manager, "favourites", &["guest_cart_id", "shop_id"], true).await?;
        index(manager, "favourites", &["product_id"], false).await?;
        index(manager, "favourites", &["shop_id"], false).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["favourites"]).await
    }
}
