//! `shops`: an artisan's storefront.

use sea_orm::entity::prelude::*;

/// Whether a shop is visible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ShopStatus {
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    #[sea_orm(string_value = "SUSPENDED")]
    Suspended,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shops")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub owner_id: Uuid,
    pub slug: String,
    pub name: String,
    pub country: String,
    pub region: String,
    pub settlement_currency: String,
    pub default_language: String,
    /// JSON object: language tag to story text.
    pub story: String,
    pub status: ShopStatus,
    /// Commission override in basis points; `None` uses the platform default.
    pub commission_bps: Option<i32>,
    /// The Stripe Connect account payouts go to, once onboarding started.
    pub stripe_account_id: Option<String>,
    /// Whether Stripe says that account can receive payouts (from `account.updated`).
    pub payouts_enabled: bool,
    pub logo_image_id: Option<Uuid>,
    pub banner_image_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
