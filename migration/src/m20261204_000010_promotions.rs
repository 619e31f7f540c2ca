//! Promotion codes (platform- or shop-funded, with their limits), the uses they were redeemed
//! for, the code a cart holds, the discount frozen on each order and line, and the platform's
//! own ledger: the commission it earns and what it pays for its promotions.

use sea_orm_migration::prelude::*;

use crate::ddl::{
    add_column, drop_column, drop_tables, fk, flag, index, table, text, text_null, time, time_null,
    uuid_col, uuid_null, uuid_pk,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn big_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .big_integer()
        .null()
        .to_owned()
}

fn int_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).integer().null().to_owned()
}

fn zero(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .big_integer()
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
            "promotion_codes",
            vec![
                uuid_pk("id"),
                // Upper case, as buyers' input is normalised.
                text("code", 40),
                text_null("description", 200),
                // PLATFORM or SHOP.
                text("funded_by", 10),
                uuid_null("shop_id"),
                // PERCENT or FIXED.
                text("kind", 10),
                int_null("percent_off"),
                big_null("amount_minor"),
                text_null("currency", 3),
                big_null("min_subtotal_minor"),
                time("starts_at"),
                time_null("ends_at"),
                int_null("max_uses"),
                int_null("max_uses_per_buyer"),
                flag("first_order_only", false),
                zero("uses"),
                uuid_null("category_id"),
                uuid_null("collection_id"),
                flag("active", true),
                uuid_col("created_by"),
                time("created_at"),
                time("updated_at"),
            ],
            vec![
                fk(
                    "promotion_codes",
                    "shop_id",
                    "shops",
                    ForeignKeyAction::Cascade,
                ),
                fk(
                    "promotion_codes",
                    "category_id",
                    "categories",
                    ForeignKeyAction::SetNull,
                ),
                fk(
                    "promotion_codes",
                    "collection_id",
                    "collections",
                    ForeignKeyAction::SetNull,
                ),
            ],
        )
        .await?;
        index(manager, "promotion_codes", &["code"], true).await?;
        index(manager, "promotion_codes", &["shop_id"], false).await?;
        table(
            manager,
            "promotion_products",
            vec![
                uuid_pk("id"),
                uuid_col("promotion_id"),
                uuid_col("product_id"),
            ],
            vec![
                fk(
                    "promotion_products",
                    "promotion_id",
                    "promotion_codes",
                    ForeignKeyAction::Cascade,
                ),
                fk(
                    "promotion_products",
                    "product_id",
                    "products",
                    ForeignKeyAction::Cascade,
                ),
            ],
        )
        .await?;
        index(
            manager,
            "promotion_products",
            &["promotion_id", "product_id"],
            true,
        )
        .await?;
        table(
            manager,
            "promotion_redemptions",
            vec![
                uuid_pk("id"),
                uuid_col("promotion_id"),
                uuid_col("checkout_id"),
                uuid_col("buyer_id"),
                time("created_at"),
                // Set when every order of the checkout was cancelled: the use is given back.
                time_null("released_at"),
            ],
            vec![
                fk(
                    "promotion_redemptions",
                    "promotion_id",
                    "promotion_codes",
                    ForeignKeyAction::Cascade,
                ),
                fk(
                    "promotion_redemptions",
                    "checkout_id",
                    "checkouts",
                    ForeignKeyAction::Cascade,
                ),
            ],
        )
        .await?;
        index(manager, "promotion_redemptions", &["checkout_id"], true).await?;
        index(
            manager,
            "promotion_redemptions",
            &["promotion_id", "buyer_id"],
            false,
        )
        .await?;
        table(
            manager,
            "cart_promotions",
            vec![
                uuid_pk("id"),
                // Exactly one owner: a buyer or a guest cart.
                uuid_null("user_id"),
                uuid_null("guest_cart_id"),
                uuid_col("promotion_id"),
                time("created_at"),
            ],
            vec![
                fk(
                    "cart_promotions",
                    "user_id",
                    "users",
                    ForeignKeyAction::Cascade,
                ),
                fk(
                    "cart_promotions",
                    "guest_cart_id",
                    "guest_carts",
                    ForeignKeyAction::Cascade,
                ),
                fk(
                    "cart_promotions",
                    "promotion_id",
                    "promotion_codes",
                    ForeignKeyAction::Cascade,
                ),
            ],
        )
        .await?;
        index(manager, "cart_promotions", &["user_id"], true).await?;
        index(manager, "cart_promotions", &["guest_cart_id"], true).await?;
        table(
            manager,
            "platform_entries",
            vec![
                uuid_pk("id"),
                uuid_col("order_id"),
                text("kind", 24),
                ColumnDef::new(Alias::new("amount_minor"))
                    .big_integer()
                    .not_null()
                    .to_owned(),
                text("currency", 3),
                uuid_null("refund_id"),
                time("created_at"),
            ],
            vec![fk(
                "platform_entries",
                "order_id",
                "orders",
                ForeignKeyAction::Cascade,
            )],
        )
        .await?;
        index(manager, "platform_entries", &["order_id"], false).await?;
        for col in [
            zero("discount_minor"),
            zero("shop_discount_minor"),
            uuid_null("promotion_id"),
            text_null("discount_funded_by", 10),
        ] {
            add_column(manager, "orders", col).await?;
        }
        for col in [zero("discount_minor"), zero("shop_discount_minor")] {
            add_column(manager, "order_lines", col).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in ["discount_minor", "shop_discount_minor"] {
            drop_column(manager, "order_lines", col).await?;
        }
        for col in [
            "discount_minor",
            "shop_discount_minor",
            "promotion_id",
            "discount_funded_by",
        ] {
            drop_column(manager, "orders", col).await?;
        }
        drop_tables(
            manager,
            &[
                "platform_entries",
                "cart_promotions",
                "promotion_redemptions",
                "promotion_products",
                "promotion_codes",
            ],
        )
        .await
    }
}
