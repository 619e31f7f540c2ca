//! Two grids summed from the cubes without the shop in their key, each cell listing its shops,
//! makers and days to ship and deliver, so questions read a few thousand rows instead of the
//! shop-level cube:
//! - `statistics_open`: the open grid, per quarter, craft and destination (`method` empty):
//!   every public figure is a sum of its published cells;
//! - `statistics_market`: per month, craft, destination and payment method: researchers'
//!   questions that do not break down by the shop's region, country or size.
//!
//! Grid cells list shops by a number each (`statistics_shop_numbers`), not by id.
//!
//! Every paid order is queued, so the drain fills these and the makers' cube (000017) in on
//! existing databases.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{DbBackend, Statement};

use crate::ddl::{big, drop_tables, index, long_text, table, text, uuid_col, uuid_pk};

#[derive(DeriveMigrationName)]
pub struct Migration;

const GRIDS: [&str; 2] = ["statistics_open", "statistics_market"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (grid, period) in GRIDS.into_iter().zip(["quarter", "month"]) {
            let mut cols = vec![
                uuid_pk("id"),
                // `YYYY-Qn` in the open grid, `YYYY-MM` in the market's.
                text(period, 7),
                uuid_col("category_id"),
                text("country", 2),
                text("method", 20),
                // Comma-separated ids, as the database prints them.
                long_text("shops"),
                long_text("makers"),
                // JSON `[[kind, days, orders], ...]`, kind S (to ship) or D (to deliver).
                long_text("days"),
            ];
            for m in [
                "orders",
                "units",
                "gross_mnt",
                "gross_usd",
                "share_mnt",
                "share_usd",
                "refunded_orders",
                "new_buyers",
                "repeat_orders",
            ] {
                cols.push(big(m));
            }
            table(manager, grid, cols, vec![]).await?;
            index(
                manager,
                grid,
                &[period, "category_id", "country", "method"],
                true,
            )
            .await?;
        }
        // Grid cells list shops by these small numbers, not their ids: a year's answer then
        // carries a tenth of the text.
        table(
            manager,
            "statistics_shop_numbers",
            vec![
                uuid_pk("shop_id"),
                ColumnDef::new(Alias::new("number"))
                    .integer()
                    .not_null()
                    .unique_key()
                    .to_owned(),
            ],
            vec![],
        )
        .await?;
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let sql = match backend {
            DbBackend::Postgres => {
                "INSERT INTO statistics_queue (order_id, queued_at) \
                 SELECT id, $1 FROM orders WHERE paid_at IS NOT NULL \
                 ON CONFLICT (order_id) DO NOTHING"
            }
            _ => {
                "INSERT INTO statistics_queue (order_id, queued_at) \
                 SELECT id, ? FROM orders WHERE paid_at IS NOT NULL \
                 ON CONFLICT (order_id) DO NOTHING"
            }
        };
        let now = sea_orm_migration::sea_orm::prelude::ChronoUtc::now();
        db.execute_raw(Statement::from_sql_and_values(backend, sql, [now.into()]))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["statistics_shop_numbers"]).await?;
        drop_tables(manager, &GRIDS).await
    }
}
