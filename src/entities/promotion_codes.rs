//! `promotion_codes`: a code buyers type at checkout, who pays for it and its limits.

use sea_orm::entity::prelude::*;

/// Who pays for the discount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(10))")]
pub enum FundedBy {
    /// The marketplace: the shop is credited as if there were no discount.
    #[sea_orm(string_value = "PLATFORM")]
    Platform,
    /// The shop: its sale is the discounted amount.
    #[sea_orm(string_value = "SHOP")]
    Shop,
}

impl FundedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Platform => "PLATFORM",
            Self::Shop => "SHOP",
        }
    }
}

/// How the discount is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(10))")]
pub enum DiscountKind {
    /// `percent_off` of the eligible lines.
    #[sea_orm(string_value = "PERCENT")]
    Percent,
    /// `amount_minor` of `currency`, converted at the order's rates, spread over the lines.
    #[sea_orm(string_value = "FIXED")]
    Fixed,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "promotion_codes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Upper case.
    pub code: String,
    pub description: Option<String>,
    pub funded_by: FundedBy,
    /// The shop whose products it covers (a shop's own code, or an admin's limited to one shop).
    pub shop_id: Option<Uuid>,
    pub kind: DiscountKind,
    /// 1 to 100, for PERCENT.
    pub percent_off: Option<i32>,
    /// For FIXED, in `currency`.
    pub amount_minor: Option<i64>,
    /// The currency of the fixed amount and of the minimum subtotal.
    pub currency: Option<String>,
    pub min_subtotal_minor: Option<i64>,
    pub starts_at: DateTimeUtc,
    pub ends_at: Option<DateTimeUtc>,
    pub max_uses: Option<i32>,
    pub max_uses_per_buyer: Option<i32>,
    pub first_order_only: bool,
    /// Checkouts that hold a use now (cancelled ones gave theirs back).
    pub uses: i64,
    pub category_id: Option<Uuid>,
    pub collection_id: Option<Uuid>,
    pub active: bool,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
