//! `statistics_facts`: one paid order's contribution to the market statistics, one row per
//! craft it sold. Kept so a change to the order can take back exactly what it added.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "statistics_facts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub order_id: Uuid,
    /// Paid month, `YYYY-MM` (UTC).
    pub month: String,
    pub shop_id: Uuid,
    /// The product's category; the nil id when uncategorised.
    pub category_id: Uuid,
    /// Destination, ISO 3166-1 alpha-2 (empty when unknown).
    pub country: String,
    /// `CARD` or `BANK_TRANSFER`.
    pub method: String,
    /// 1 on the row of the order's main craft (its largest line), else 0; so are the other
    /// per-order counts below.
    pub orders: i64,
    pub units: i64,
    /// Merchandise value net of refunds, in MNT and USD minor units at the order's rates.
    pub gross_mnt: i64,
    pub gross_usd: i64,
    /// What reaches the artisans: the value after commission, net of refunds.
    pub share_mnt: i64,
    pub share_usd: i64,
    pub refunded_orders: i64,
    pub new_buyers: i64,
    pub repeat_orders: i64,
    /// Whole days from payment to shipping and to delivery, on the main craft's row.
    pub ship_days: Option<i32>,
    pub deliver_days: Option<i32>,
    /// How the value was split among the makers of its lines, JSON
    /// `[[maker_id, gross_mnt, gross_usd, share_mnt, share_usd], ...]` (the nil id for lines
    /// whose product names no maker); null for facts counted before makers were.
    pub maker_shares: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
