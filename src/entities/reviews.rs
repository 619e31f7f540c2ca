//! `reviews`: a verified buyer's rating and words about one delivered order line.

use sea_orm::entity::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(12))")]
pub enum ReviewStatus {
    #[sea_orm(string_value = "VISIBLE")]
    Visible,
    /// Hidden by an admin: gone from every public view and aggregate.
    #[sea_orm(string_value = "HIDDEN")]
    Hidden,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reviews")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub product_id: Uuid,
    pub shop_id: Uuid,
    pub order_id: Uuid,
    pub order_line_id: Uuid,
    pub buyer_id: Uuid,
    /// 1 to 5.
    pub rating: i32,
    pub body: String,
    /// BCP 47 tag of `body`.
    pub language: String,
    pub status: ReviewStatus,
    pub hidden_reason: Option<String>,
    pub hidden_at: Option<DateTimeUtc>,
    /// The shop's public answer; empty when it has not replied.
    pub reply: String,
    pub replied_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
