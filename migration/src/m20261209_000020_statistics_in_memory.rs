//! The statistics are answered from a copy of the cubes in each server's memory, kept
//! current by a change sequence instead of grids summed in the database:
//! - `seq` on every cube row: the drain's number that last changed it, so a server reads
//!   only the rows changed since its copy;
//! - `statistics_state`: the last number given (`seq`) and the `epoch`, which a rebuild
//!   changes so every server reloads its copy whole;
//! - the grids of 000018 and their shop numbers are dropped: nothing reads them now.

use sea_orm_migration::prelude::*;

use crate::ddl::{add_column, big, drop_column, drop_tables, index, table, text};

#[derive(DeriveMigrationName)]
pub struct Migration;

const CUBES: [&str; 3] = [
    "statistics_cells",
    "statistics_days",
    "statistics_maker_cells",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for cube in CUBES {
            add_column(manager, cube, big("seq").default(0).to_owned()).await?;
            index(manager, cube, &["seq"], false).await?;
        }
        table(
            manager,
            "statistics_state",
            vec![
                ColumnDef::new(Alias::new("id"))
                    .integer()
                    .not_null()
                    .primary_key()
                    .to_owned(),
                text("epoch", 36),
                big("seq"),
            ],
            vec![],
        )
        .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(Alias::new("statistics_state"))
                    .columns([Alias::new("id"), Alias::new("epoch"), Alias::new("seq")])
                    .values_panic([1.into(), "initial".into(), 0i64.into()])
                    .to_owned(),
            )
            .await?;
        drop_tables(
            manager,
            &[
                "statistics_shop_numbers",
                "statistics_open",
                "statistics_market",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["statistics_state"]).await?;
        for cube in CUBES {
            manager
                .drop_index(
                    Index::drop()
                        .name(format!("{cube}_seq_idx"))
                        .table(Alias::new(cube))
                        .to_owned(),
                )
                .await?;
            drop_column(manager, cube, "seq").await?;
        }
        // The grids come back empty with every paid order queued, as when they were made.
        super::m20261207_000018_statistics_grids::Migration
            .up(manager)
            .await
    }
}
