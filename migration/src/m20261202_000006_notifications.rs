//! Notifications: the outbox (one row per event and recipient, which is also the in-app
//! inbox), what each user wants to hear of, single-use account tokens (email verification and
//! password reset), and the human payment reference of a bank transfer.

use sea_orm_migration::prelude::*;

use crate::ddl::{
    add_column, drop_column, drop_tables, fk, flag, index, int, long_text, table, text, text_null,
    time, time_null, uuid_col, uuid_pk,
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
            "notifications",
            vec![
                uuid_pk("id"),
                uuid_col("recipient_id"),
                text("kind", 40),
                // What caused it (an order and its new state, a token…): with the kind and
                // the recipient, unique, so a cause notifies each person once.
                text("event_key", 200),
                long_text("data"),
                time("created_at"),
                time_null("read_at"),
                // PENDING, SENDING, SENT, SKIPPED (the recipient muted it) or FAILED.
                text("email_status", 12),
                int("attempts"),
                time("next_attempt_at"),
                text_null("last_error", 500),
                time_null("sent_at"),
            ],
            vec![fk(
                "notifications",
                "recipient_id",
                "users",
                ForeignKeyAction::Cascade,
            )],
        )
        .await?;
        index(
            manager,
            "notifications",
            &["kind", "event_key", "recipient_id"],
            true,
        )
        .await?;
        index(
            manager,
            "notifications",
            &["email_status", "next_attempt_at"],
            false,
        )
        .await?;
        index(
            manager,
            "notifications",
            &["recipient_id", "created_at"],
            false,
        )
        .await?;

        table(
            manager,
            "notification_preferences",
            vec![
                uuid_pk("user_id"),
                // JSON array of the optional kinds the user does not want by email.
                long_text("muted"),
                flag("marketing_email", false),
                time("updated_at"),
            ],
            vec![fk(
                "notification_preferences",
                "user_id",
                "users",
                ForeignKeyAction::Cascade,
            )],
        )
        .await?;

        table(
            manager,
            "account_tokens",
            vec![
                uuid_pk("id"),
                uuid_col("user_id"),
                // VERIFY_EMAIL or RESET_PASSWORD.
                text("purpose", 20),
                text("token_hash", 64),
                time("expires_at"),
                time_null("used_at"),
                time("created_at"),
            ],
            vec![fk(
                "account_tokens",
                "user_id",
                "users",
                ForeignKeyAction::Cascade,
            )],
        )
        .await?;
        index(manager, "account_tokens", &["token_hash"], true).await?;
        index(manager, "account_tokens", &["user_id", "purpose"], false).await?;

        add_column(manager, "checkouts", text_null("payment_reference", 16)).await?;
        index(manager, "checkouts", &["payment_reference"], true).await?;
        add_column(manager, "checkouts", time_null("reminded_at")).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("checkouts_payment_reference_key")
                    .table(Alias::new("checkouts"))
                    .to_owned(),
            )
            .await?;
        drop_column(manager, "checkouts", "reminded_at").await?;
        drop_column(manager, "checkouts", "payment_reference").await?;
        drop_tables(
            manager,
            &[
                "account_tokens",
                "notification_preferences",
                "notifications",
            ],
        )
        .await
    }
}
