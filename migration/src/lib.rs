//! Database migrations. Each file is frozen once released: it states its own DDL and never
//! reads today's entities, so replaying history always builds the same schema.

pub use sea_orm_migration::prelude::*;

mod ddl;
mod m20261129_000001_accounts;
mod m20261129_000002_catalog;
mod m20261129_000003_orders;
mod m20261129_000004_payments;
mod m20261202_000005_hardening;
mod m20261202_000006_notifications;
mod m20261203_000007_media;
mod m20261203_000008_reviews;
mod m20261203_000009_favourites;
mod m20261204_000010_promotions;
mod m20261204_000011_sales;
mod m20261204_000012_campaigns;
mod m20261204_000013_review_photos;
mod m20261204_000014_attribution;
mod m20261205_000015_analytics;
mod m20261206_000016_statistics;
mod m20261207_000017_maker_statistics;
mod m20261207_000018_statistics_grids;
mod m20261208_000019_browse_indexes;
mod m20261209_000020_statistics_in_memory;

/// Every migration of the service, in the order they apply.
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_accounts::Migration),
            Box::new(m20261129_000002_catalog::Migration),
            Box::new(m20261129_000003_orders::Migration),
            Box::new(m20261129_000004_payments::Migration),
            Box::new(m20261202_000005_hardening::Migration),
            Box::new(m20261202_000006_notifications::Migration),
            Box::new(m20261203_000007_media::Migration),
            Box::new(m20261203_000008_reviews::Migration),
            Box::new(m20261203_000009_favourites::Migration),
            Box::new(m20261204_000010_promotions::Migration),
            Box::new(m20261204_000011_sales::Migration),
            Box::new(m20261204_000012_campaigns::Migration),
            Box::new(m20261204_000013_review_photos::Migration),
            Box::new(m20261204_000014_attribution::Migration),
            Box::new(m20261205_000015_analytics::Migration),
            Box::new(m20261206_000016_statistics::Migration),
            Box::new(m20261207_000017_maker_statistics::Migration),
            Box::new(m20261207_000018_statistics_grids::Migration),
            Box::new(m20261208_000019_browse_indexes::Migration),
            Box::new(m20261209_000020_statistics_in_memory::Migration),
        ]
    }
}
