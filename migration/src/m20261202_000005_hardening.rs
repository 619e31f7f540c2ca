//! Login attempts counted where every server sees them, and the request an idempotency key
//! was first used with.

use sea_orm_migration::prelude::*;

use crate::ddl::{add_column, big, drop_column, drop_tables, int, table, text_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One row per throttled key ("email:…", "client:…"): a fixed window that starts at
        // its first attempt, in Unix seconds.
        table(
            manager,
            "login_attempts",
            vec![
                ColumnDef::new(Alias::new("key"))
                    .string_len(400)
                    .not_null()
                    .primary_key()
                    .to_owned(),
                big("window_started_at"),
                int("attempts"),
            ],
            vec![],
        )
        .await?;
        // A digest of what placeOrder was asked the first time a key was used.
        add_column(manager, "checkouts", text_null("request_digest", 64)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_column(manager, "checkouts", "request_digest").await?;
        drop_tables(manager, &["login_attempts"]).await
    }
}
