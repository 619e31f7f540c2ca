//! Channel attribution: where a buyer came from (UTM source, medium, campaign and the
//! referring site), kept on the cart (last touch) and frozen on each order at checkout.

use sea_orm_migration::prelude::*;

use crate::ddl::{
    add_column, drop_column, drop_tables, fk, index, table, text_null, time, uuid_null, uuid_pk,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

const FIELDS: [&str; 4] = ["utm_source", "utm_medium", "utm_campaign", "referrer"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut cols = vec![
            uuid_pk("id"),
            // Exactly one owner: a buyer or a guest cart.
            uuid_null("user_id"),
            uuid_null("guest_cart_id"),
        ];
        cols.extend(FIELDS.iter().map(|f| text_null(f, 100)));
        cols.push(time("captured_at"));
        table(
            manager,
            "cart_attributions",
            cols,
            vec![
                fk(
                    "cart_attributions",
                    "user_id",
                    "users",
                    ForeignKeyAction::Cascade,
                ),
                fk(
                    "cart_attributions",
                    "guest_cart_id",
                    "guest_carts",
                    ForeignKeyAction::Cascade,
                ),
            ],
        )
        .await?;
        index(manager, "cart_attributions", &["user_id"], true).await?;
        index(manager, "cart_attributions", &["guest_cart_id"], true).await?;
        for field in FIELDS {
            add_column(manager, "orders", text_null(field, 100)).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for field in FIELDS {
            drop_column(manager, "orders", field).await?;
        }
        drop_tables(manager, &["cart_attributions"]).await
    }
}
