//! Market statistics: each paid order's contribution (its facts, one row per craft it sold),
//! the monthly cube those facts add up to, a histogram of days to ship and to deliver (so
//! medians can be read without the orders), and a queue of orders whose facts are due to be
//! recomputed. Orders also lock the rates from the shop's currency to MNT and USD, so the
//! figures never move with today's rates.

use sea_orm_migration::prelude::*;

use crate::ddl::{
    add_column, big, drop_column, drop_tables, index, table, text, text_null, time, uuid_col,
    uuid_pk,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The cell a fact belongs to: paid month (`YYYY-MM`), shop, craft (the nil id when
/// uncategorised), destination country and payment method.
fn cell() -> Vec<ColumnDef> {
    vec![
        text("month", 7),
        uuid_col("shop_id"),
        uuid_col("category_id"),
        text("country", 2),
        text("method", 20),
    ]
}

/// What a fact or cell adds up.
const MEASURES: [&str; 9] = [
    "orders",
    "units",
    "gross_mnt",
    "gross_usd",
    "share_mnt",
    "share_usd",
    "refunded_orders",
    "new_buyers",
    "repeat_orders",
];

fn measures() -> Vec<ColumnDef> {
    MEASURES.into_iter().map(big).collect()
}

const CELL: [&str; 5] = ["month", "shop_id", "category_id", "country", "method"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Fractions `numerator/denominator`, as `exchange_rate` is written.
        add_column(manager, "orders", text_null("rate_to_mnt", 80)).await?;
        add_column(manager, "orders", text_null("rate_to_usd", 80)).await?;

        let mut facts = vec![uuid_pk("id"), uuid_col("order_id")];
        facts.extend(cell());
        facts.extend(measures());
        facts.push(
            ColumnDef::new(Alias::new("ship_days"))
                .integer()
                .null()
                .to_owned(),
        );
        facts.push(
            ColumnDef::new(Alias::new("deliver_days"))
                .integer()
                .null()
                .to_owned(),
        );
        table(manager, "statistics_facts", facts, vec![]).await?;
        index(manager, "statistics_facts", &["order_id"], false).await?;

        let mut cells = vec![uuid_pk("id")];
        cells.extend(cell());
        cells.extend(measures());
        table(manager, "statistics_cells", cells, vec![]).await?;
        index(manager, "statistics_cells", &CELL, true).await?;
        // The cell key with every measure: a year's questions read the index alone, never
        // the table.
        let mut covering = Index::create();
        covering
            .name("statistics_cells_covering_idx")
            .table(Alias::new("statistics_cells"));
        for col in CELL.iter().chain(MEASURES.iter()) {
            covering.col(Alias::new(*col));
        }
        manager.create_index(covering.to_owned()).await?;

        let mut days = vec![uuid_pk("id")];
        days.extend(cell());
        // S: paid to shipped; D: paid to delivered.
        days.push(text("kind", 1));
        days.push(
            ColumnDef::new(Alias::new("days"))
                .integer()
                .not_null()
                .to_owned(),
        );
        days.push(big("orders"));
        table(manager, "statistics_days", days, vec![]).await?;
        let mut key: Vec<&str> = CELL.to_vec();
        key.extend(["kind", "days"]);
        index(manager, "statistics_days", &key, true).await?;

        table(
            manager,
            "statistics_queue",
            vec![uuid_pk("order_id"), time("queued_at")],
            vec![],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(
            manager,
            &[
                "statistics_queue",
                "statistics_days",
                "statistics_cells",
                "statistics_facts",
            ],
        )
        .await?;
        drop_column(manager, "orders", "rate_to_usd").await?;
        drop_column(manager, "orders", "rate_to_mnt").await
    }
}
