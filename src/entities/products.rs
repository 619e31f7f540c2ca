//! `products`: a listed piece of work.

use sea_orm::entity::prelude::*;

/// Where a product is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ProductStatus {
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    #[sea_orm(string_value = "ARCHIVED")]
    Archived,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub shop_id: Uuid,
    pub slug: String,
    pub status: ProductStatus,
    pub category_id: Option<Uuid>,
    /// Base price in minor units of `currency` (the shop's settlement currency).
    pub price_minor: i64,
    pub currency: String,
    /// The base price in MNT minor units at the rates of the last save, for sorting and
    /// price filters across currencies.
    pub sort_price: i64,
    pub handmade: bool,
    pub made_to_order: bool,
    pub processing_days: i32,
    pub origin_region: Option<String>,
    pub hs_code: Option<String>,
    pub weight_grams: Option<i32>,
    /// JSON array of strings.
    pub materials: String,
    /// JSON array of strings.
    pub techniques: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub published_at: Option<DateTimeUtc>,
    /// How it ships; `None` uses the shop's default profile.
    pub shipping_profile_id: Option<Uuid>,
    /// Visible reviews, the sum of their ratings, and their average × 100 (0 without
    /// reviews): kept in step by each review's transaction, for sorting and filtering.
    pub rating_count: i32,
    pub rating_sum: i32,
    pub rating_score: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
