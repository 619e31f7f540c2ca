//! Shipping zones, addresses, carts, checkouts, orders with line snapshots and events.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn uuid_pk(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .uuid()
        .not_null()
        .primary_key()
        .to_owned()
}
fn uuid_col(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .uuid()
        .not_null()
        .to_owned()
}
fn text(name: &'static str, len: u32) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .string_len(len)
        .not_null()
        .to_owned()
}
fn text_null(name: &'static str, len: u32) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .string_len(len)
        .null()
        .to_owned()
}
fn big(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .big_integer()
        .not_null()
        .to_owned()
}
fn int(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .integer()
        .not_null()
        .to_owned()
}
fn time(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}
fn time_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}
fn fk(
    table: &'static str,
    col: &'static str,
    to: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("{table}_{col}_fkey"))
        .from(Alias::new(table), Alias::new(col))
        .to(Alias::new(to), Alias::new("id"))
        .on_delete(on_delete)
        .to_owned()
}

async fn table(
    manager: &SchemaManager<'_>,
    name: &'static str,
    cols: Vec<ColumnDef>,
    fks: Vec<ForeignKeyCreateStatement>,
) -> Result<(), DbErr> {
    let mut stmt = Table::create();
    stmt.table(Alias::new(name));
    for mut col in cols {
        stmt.col(&mut col);
    }
    for mut f in fks {
        stmt.foreign_key(&mut f);
    }
    manager.create_table(stmt.to_owned()).await
}

async fn index(
    manager: &SchemaManager<'_>,
    table: &'static str,
    cols: &[&str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(format!(
        "{table}_{}_{}",
        cols.join("_"),
        if unique { "key" } else { "idx" }
    ))
    .table(Alias::new(table));
    for col in cols {
        stmt.col(Alias::new(*col));
    }
    if unique {
        stmt.unique();
    }
    manager.create_index(stmt.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict};
        // A shop's ways of shipping (e.g. "Small parcels", "Furniture"); products name one,
        // or use the shop's default.
        table(
            manager,
            "shipping_profiles",
            vec![
                uuid_pk("id"),
                uuid_col("shop_id"),
                text("name", 100),
                ColumnDef::new(Alias::new("is_default"))
                    .boolean()
                    .not_null()
                    .to_owned(),
                time("created_at"),
            ],
            vec![fk("shipping_profiles", "shop_id", "shops", Cascade)],
        )
        .await?;
        index(manager, "shipping_profiles", &["shop_id"], false).await?;
        // SQLite cannot add a foreign key to an existing table; the service checks the profile
        // belongs to the product's shop.
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("products"))
                    .add_column(
                        ColumnDef::new(Alias::new("shipping_profile_id"))
                            .uuid()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;

        // Rates per destination zone of a profile; `countries` is a JSON array of ISO codes,
        // empty for the rest of the world.
        table(
            manager,
            "shipping_zones",
            vec![
                uuid_pk("id"),
                uuid_col("shop_id"),
                uuid_col("profile_id"),
                text("name", 100),
                ColumnDef::new(Alias::new("countries"))
                    .text()
                    .not_null()
                    .to_owned(),
                big("first_item_minor"),
                big("additional_item_minor"),
                int("min_days"),
                int("max_days"),
                int("position"),
            ],
            vec![
                fk("shipping_zones", "shop_id", "shops", Cascade),
                fk("shipping_zones", "profile_id", "shipping_profiles", Cascade),
            ],
        )
        .await?;
        index(manager, "shipping_zones", &["profile_id"], false).await?;

        table(
            manager,
            "addresses",
            vec![
                uuid_pk("id"),
                uuid_col("user_id"),
                text("name", 120),
                text("line1", 200),
                text_null("line2", 200),
                text("city", 100),
                text_null("region", 100),
                text_null("postal_code", 20),
                text("country", 2),
                text_null("phone", 40),
                time("created_at"),
            ],
            vec![fk("addresses", "user_id", "users", Cascade)],
        )
        .await?;
        index(manager, "addresses", &["user_id"], false).await?;

        // Carts of visitors who have not signed in, known by a token stored as a hash.
        table(
            manager,
            "guest_carts",
            vec![uuid_pk("id"), text("token_hash", 64), time("created_at")],
            vec![],
        )
        .await?;
        index(manager, "guest_carts", &["token_hash"], true).await?;

        // A line belongs to a user's cart or to a guest cart.
        table(
            manager,
            "cart_items",
            vec![
                uuid_pk("id"),
                ColumnDef::new(Alias::new("user_id"))
                    .uuid()
                    .null()
                    .to_owned(),
                ColumnDef::new(Alias::new("guest_cart_id"))
                    .uuid()
                    .null()
                    .to_owned(),
                uuid_col("variant_id"),
                int("quantity"),
                time("created_at"),
            ],
            vec![
                fk("cart_items", "user_id", "users", Cascade),
                fk("cart_items", "guest_cart_id", "guest_carts", Cascade),
                fk("cart_items", "variant_id", "product_variants", Cascade),
            ],
        )
        .await?;
        index(manager, "cart_items", &["user_id", "variant_id"], true).await?;
        index(
            manager,
            "cart_items",
            &["guest_cart_id", "variant_id"],
            true,
        )
        .await?;

        table(
            manager,
            "checkouts",
            vec![
                uuid_pk("id"),
                uuid_col("buyer_id"),
                text("idempotency_key", 100),
                text("currency", 3),
                big("total_minor"),
                text("payment_method", 20),
                ColumnDef::new(Alias::new("shipping_address"))
                    .text()
                    .not_null()
                    .to_owned(),
                time("created_at"),
            ],
            vec![fk("checkouts", "buyer_id", "users", Restrict)],
        )
        .await?;
        // The same key from the same buyer is the same checkout.
        index(manager, "checkouts", &["buyer_id", "idempotency_key"], true).await?;

        table(
            manager,
            "order_counters",
            vec![
                ColumnDef::new(Alias::new("year"))
                    .integer()
                    .not_null()
                    .primary_key()
                    .to_owned(),
                big("last"),
            ],
            vec![],
        )
        .await?;

        table(
            manager,
            "orders",
            vec![
                uuid_pk("id"),
                uuid_col("checkout_id"),
                uuid_col("shop_id"),
                uuid_col("buyer_id"),
                text("number", 20),
                text("status", 20),
                text("currency", 3),
                big("subtotal_minor"),
                big("shipping_minor"),
                big("total_minor"),
                text("shop_currency", 3),
                big("shop_subtotal_minor"),
                big("shop_shipping_minor"),
                big("shop_total_minor"),
                text("exchange_rate", 80),
                ColumnDef::new(Alias::new("shipping_address"))
                    .text()
                    .not_null()
                    .to_owned(),
                text_null("carrier", 100),
                text_null("tracking_number", 100),
                time("created_at"),
                time("updated_at"),
                time("expires_at"),
                time_null("paid_at"),
            ],
            vec![
                fk("orders", "checkout_id", "checkouts", Cascade),
                fk("orders", "shop_id", "shops", Restrict),
                fk("orders", "buyer_id", "users", Restrict),
            ],
        )
        .await?;
        index(manager, "orders", &["number"], true).await?;
        index(manager, "orders", &["buyer_id"], false).await?;
        index(manager, "orders", &["shop_id", "status"], false).await?;
        index(manager, "orders", &["checkout_id"], false).await?;
        index(manager, "orders", &["status", "expires_at"], false).await?;

        table(
            manager,
            "order_lines",
            vec![
                uuid_pk("id"),
                uuid_col("order_id"),
                uuid_col("product_id"),
                uuid_col("variant_id"),
                text("title", 200),
                text("title_en", 200),
                text("sku", 64),
                big("unit_price_minor"),
                big("shop_unit_price_minor"),
                int("quantity"),
                text_null("hs_code", 10),
                text("origin_country", 2),
                ColumnDef::new(Alias::new("weight_grams"))
                    .integer()
                    .null()
                    .to_owned(),
                int("position"),
            ],
            vec![fk("order_lines", "order_id", "orders", Cascade)],
        )
        .await?;
        index(manager, "order_lines", &["order_id"], false).await?;

        table(
            manager,
            "order_events",
            vec![
                uuid_pk("id"),
                uuid_col("order_id"),
                text_null("from_status", 20),
                text("to_status", 20),
                ColumnDef::new(Alias::new("actor_id"))
                    .uuid()
                    .null()
                    .to_owned(),
                text_null("note", 500),
                time("created_at"),
            ],
            vec![fk("order_events", "order_id", "orders", Cascade)],
        )
        .await?;
        index(manager, "order_events", &["order_id"], false).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("products"))
                    .drop_column(Alias::new("shipping_profile_id"))
                    .to_owned(),
            )
            .await?;
        for name in [
            "order_events",
            "order_lines",
            "orders",
            "order_counters",
            "checkouts",
            "cart_items",
            "addresses",
            "shipping_zones",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(name)).to_owned())
                .await?;
        }
        Ok(())
    }
}
