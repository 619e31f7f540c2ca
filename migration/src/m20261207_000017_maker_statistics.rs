//! Makers as researchers need them: optional, self-declared fields a shop records for a maker
//! with the maker's consent (gender, birth year, cooperative membership; `statistics_consent_at`
//! says when consent was given, and without it the fields are empty and the maker's public
//! region and years practising stay out of the statistics too). Each fact keeps how its value
//! was split among the makers of its lines, and a second cube sums those shares per maker, so
//! figures by makers' characteristics join the makers when read and follow every change of
//! consent at once. The next migration queues every paid order, so the drain fills the new
//! cube in on existing databases.

use sea_orm_migration::prelude::*;

use crate::ddl::{
    add_column, big, drop_column, drop_tables, index, table, text, text_null, time_null, uuid_col,
    uuid_pk,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

const KEY: [&str; 6] = [
    "month",
    "shop_id",
    "category_id",
    "country",
    "method",
    "maker_id",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(manager, "makers", time_null("statistics_consent_at")).await?;
        add_column(manager, "makers", text_null("gender", 10)).await?;
        add_column(
            manager,
            "makers",
            ColumnDef::new(Alias::new("birth_year"))
                .integer()
                .null()
                .to_owned(),
        )
        .await?;
        add_column(
            manager,
            "makers",
            ColumnDef::new(Alias::new("cooperative_member"))
                .boolean()
                .null()
                .to_owned(),
        )
        .await?;
        // JSON: `[[maker_id, gross_mnt, gross_usd, share_mnt, share_usd], ...]`.
        add_column(
            manager,
            "statistics_facts",
            ColumnDef::new(Alias::new("maker_shares"))
                .text()
                .null()
                .to_owned(),
        )
        .await?;
        table(
            manager,
            "statistics_maker_cells",
            vec![
                uuid_pk("id"),
                text("month", 7),
                uuid_col("shop_id"),
                uuid_col("category_id"),
                text("country", 2),
                text("method", 20),
                uuid_col("maker_id"),
                big("gross_mnt"),
                big("gross_usd"),
                big("share_mnt"),
                big("share_usd"),
            ],
            vec![],
        )
        .await?;
        index(manager, "statistics_maker_cells", &KEY, true).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["statistics_maker_cells"]).await?;
        drop_column(manager, "statistics_facts", "maker_shares").await?;
        for col in [
            "cooperative_member",
            "birth_year",
            "gender",
            "statistics_consent_at",
        ] {
            drop_column(manager, "makers", col).await?;
        }
        Ok(())
    }
}
