//! `images`: uploaded photos, pending until processed, then ready with their renditions.

use sea_orm::entity::prelude::*;

/// What a photo is for; it decides where it may be attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
pub enum Purpose {
    #[sea_orm(string_value = "PRODUCT")]
    Product,
    #[sea_orm(string_value = "SHOP_LOGO")]
    ShopLogo,
    #[sea_orm(string_value = "SHOP_BANNER")]
    ShopBanner,
    #[sea_orm(string_value = "MAKER_PORTRAIT")]
    MakerPortrait,
    /// A buyer's photo of what they received, for a review of that shop's product.
    #[sea_orm(string_value = "REVIEW")]
    Review,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(12))")]
pub enum ImageStatus {
    /// Announced for a direct upload; its bytes have not been processed yet.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "READY")]
    Ready,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "images")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub shop_id: Uuid,
    pub uploaded_by: Uuid,
    pub purpose: Purpose,
    pub status: ImageStatus,
    pub upload_token_hash: Option<String>,
    pub source_format: Option<String>,
    /// Upright size in pixels; 0 while pending.
    pub width: i32,
    pub height: i32,
    pub stored_bytes: i64,
    /// JSON array of the rendition widths, ascending.
    pub widths: String,
    /// Base64 ThumbHash.
    pub placeholder: Option<String>,
    /// `#rrggbb`.
    pub dominant_color: Option<String>,
    pub created_at: DateTimeUtc,
    /// When a pending upload is given up.
    pub expires_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
