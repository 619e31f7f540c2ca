//! Card payments, webhook dedupe, refunds, the per-shop ledger and payouts.

use sea_orm_migration::prelude::*;

use crate::ddl::{
    add_column, big, drop_column, drop_tables, fk, index, int, table, text, text_null, time,
    uuid_col, uuid_null, uuid_pk,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict};
        // Per-shop commission override in basis points (null: the platform default) and the
        // Stripe Connect account payouts go to.
        add_column(
            manager,
            "shops",
            ColumnDef::new(Alias::new("commission_bps"))
                .integer()
                .null()
                .to_owned(),
        )
        .await?;
        add_column(manager, "shops", text_null("stripe_account_id", 255)).await?;
        add_column(
            manager,
            "shops",
            ColumnDef::new(Alias::new("payouts_enabled"))
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
        )
        .await?;
        // The commission frozen on each order, what has been refunded of it, and when it was
        // delivered (its money becomes available a holding period later).
        add_column(
            manager,
            "orders",
            ColumnDef::new(Alias::new("commission_bps"))
                .integer()
                .not_null()
                .default(0)
                .to_owned(),
        )
        .await?;
        add_column(
            manager,
            "orders",
            ColumnDef::new(Alias::new("refunded_minor"))
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
        )
        .await?;
        add_column(
            manager,
            "orders",
            ColumnDef::new(Alias::new("delivered_at"))
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        )
        .await?;

        // One payment per checkout: a Stripe PaymentIntent or a confirmed bank transfer.
        table(
            manager,
            "payments",
            vec![
                uuid_pk("id"),
                uuid_col("checkout_id"),
                text("provider", 20),
                text_null("provider_ref", 255),
                big("amount_minor"),
                text("currency", 3),
                text("status", 20),
                int("failures"),
                text_null("last_error", 500),
                text_null("review_reason", 500),
                time("created_at"),
                time("updated_at"),
            ],
            vec![fk("payments", "checkout_id", "checkouts", Restrict)],
        )
        .await?;
        index(manager, "payments", &["checkout_id"], true).await?;
        index(manager, "payments", &["provider_ref"], false).await?;

        // Stripe event ids already processed, written in the same transaction as their effect.
        table(
            manager,
            "webhook_events",
            vec![
                ColumnDef::new(Alias::new("id"))
                    .string_len(255)
                    .not_null()
                    .primary_key()
                    .to_owned(),
                text("event_type", 100),
                time("processed_at"),
            ],
            vec![],
        )
        .await?;

        table(
            manager,
            "refunds",
            vec![
                uuid_pk("id"),
                uuid_col("order_id"),
                uuid_col("checkout_id"),
                text("method", 20),
                text("status", 20),
                big("amount_minor"),
                text("currency", 3),
                big("shop_amount_minor"),
                big("shop_commission_minor"),
                text("shop_currency", 3),
                text_null("provider_ref", 255),
                text_null("reason", 500),
                uuid_null("actor_id"),
                time("created_at"),
                time("updated_at"),
            ],
            vec![fk("refunds", "order_id", "orders", Restrict)],
        )
        .await?;
        index(manager, "refunds", &["order_id"], false).await?;
        index(manager, "refunds", &["provider_ref"], false).await?;

        table(
            manager,
            "payouts",
            vec![
                uuid_pk("id"),
                uuid_col("shop_id"),
                text("method", 20),
                text("status", 20),
                big("amount_minor"),
                text("currency", 3),
                text_null("reference", 255),
                text_null("failure", 500),
                uuid_null("actor_id"),
                time("created_at"),
                time("updated_at"),
            ],
            vec![fk("payouts", "shop_id", "shops", Cascade)],
        )
        .await?;
        index(manager, "payouts", &["shop_id"], false).await?;

        // Append-only: a shop's balance is the sum of its entries. Every entry belongs to an
        // order, so it is pending or available with that order.
        table(
            manager,
            "ledger_entries",
            vec![
                uuid_pk("id"),
                uuid_col("shop_id"),
                uuid_col("order_id"),
                text("kind", 20),
                big("amount_minor"),
                text("currency", 3),
                uuid_null("refund_id"),
                uuid_null("payout_id"),
                text_null("provider_ref", 255),
                time("created_at"),
            ],
            vec![
                fk("ledger_entries", "shop_id", "shops", Cascade),
                fk("ledger_entries", "order_id", "orders", Restrict),
            ],
        )
        .await?;
        index(manager, "ledger_entries", &["shop_id"], false).await?;
        index(manager, "ledger_entries", &["order_id"], false).await?;
        // One entry of each kind per order and payout, so a payout sent again by several
        // servers at once can never book the same reversal twice (NULLs do not collide).
        index(
            manager,
            "ledger_entries",
            &["payout_id", "order_id", "kind"],
            true,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            &[
                "ledger_entries",
                "payouts",
                "refunds",
                "webhook_events",
                "payments",
            ],
        )
        .await?;
        for col in ["delivered_at", "refunded_minor", "commission_bps"] {
            drop_column(manager, "orders", col).await?;
        }
        for col in ["payouts_enabled", "stripe_account_id", "commission_bps"] {
            drop_column(manager, "shops", col).await?;
        }
        Ok(())
    }
}
