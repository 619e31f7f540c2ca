//! Output types of the promotions GraphQL.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use crate::{
    entities::promotion_codes::{self, DiscountKind},
    graphql::orders::money,
    kit::Money,
    promotions::loaders::PromotionLoaders,
};

/// Who pays for a discount.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum FundedBy {
    /// The marketplace: the shop is credited as if there were no discount.
    Platform,
    /// The shop: its sale is the discounted amount.
    Shop,
}

impl FundedBy {
    /// From the stored `PLATFORM` / `SHOP`.
    pub fn parse(stored: Option<&str>) -> Option<Self> {
        match stored? {
            "PLATFORM" => Some(Self::Platform),
            "SHOP" => Some(Self::Shop),
            _ => None,
        }
    }
}

impl From<promotion_codes::FundedBy> for FundedBy {
    fn from(f: promotion_codes::FundedBy) -> Self {
        match f {
            promotion_codes::FundedBy::Platform => Self::Platform,
            promotion_codes::FundedBy::Shop => Self::Shop,
        }
    }
}

/// How a code's discount is computed.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum DiscountType {
    /// A percentage of the lines it covers.
    Percent,
    /// A fixed amount, converted at the order's rates and never more than the lines.
    Fixed,
}

/// A promotion code, as its creator manages it.
pub struct PromotionCode(pub promotion_codes::Model);

/// A promotion code buyers type at checkout, with who pays for it and its limits.
#[Object]
impl PromotionCode {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// What buyers type, upper case (buyers may type any case).
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// What it offers.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Who pays for the discount.
    async fn funded_by(&self) -> FundedBy {
        self.0.funded_by.into()
    }
    /// The shop whose products it covers, if limited to one.
    async fn shop_id(&self) -> Option<ID> {
        self.0.shop_id.map(|s| ID(s.to_string()))
    }
    /// Percentage or fixed amount.
    async fn discount_type(&self) -> DiscountType {
        match self.0.kind {
            DiscountKind::Percent => DiscountType::Percent,
            DiscountKind::Fixed => DiscountType::Fixed,
        }
    }
    /// For PERCENT: 1 to 100.
    async fn percent_off(&self) -> Option<i32> {
        self.0.percent_off
    }
    /// For FIXED: the amount.
    async fn amount(&self) -> Option<Money> {
        Some(money(self.0.amount_minor?, self.0.currency.as_deref()?))
    }
    /// The least the covered lines must come to.
    async fn min_subtotal(&self) -> Option<Money> {
        Some(money(
            self.0.min_subtotal_minor?,
            self.0.currency.as_deref()?,
        ))
    }
    /// When it becomes usable (UTC).
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    /// When it stops being usable (UTC); null: never.
    async fn ends_at(&self) -> Option<DateTime<Utc>> {
        self.0.ends_at
    }
    /// Most checkouts it may be used for; null: no limit.
    async fn max_uses(&self) -> Option<i32> {
        self.0.max_uses
    }
    /// Most checkouts one buyer may use it for; null: no limit.
    async fn max_uses_per_buyer(&self) -> Option<i32> {
        self.0.max_uses_per_buyer
    }
    /// Only for a buyer's first order.
    async fn first_order_only(&self) -> bool {
        self.0.first_order_only
    }
    /// Checkouts holding a use now (a fully cancelled checkout gives its use back).
    async fn uses(&self) -> i64 {
        self.0.uses
    }
    /// Limited to this category and those below it.
    async fn category_id(&self) -> Option<ID> {
        self.0.category_id.map(|c| ID(c.to_string()))
    }
    /// Limited to this collection's products.
    async fn collection_id(&self) -> Option<ID> {
        self.0.collection_id.map(|c| ID(c.to_string()))
    }
    /// Limited to these products (empty: not limited by product).
    async fn product_ids(&self, ctx: &Context<'_>) -> Result<Vec<ID>> {
        let loaders = crate::kit::data::<PromotionLoaders>(ctx)?;
        let rows = crate::kit::loaders::many(&loaders.products, self.0.id).await?;
        Ok(rows
            .into_iter()
            .map(|p| ID(p.product_id.to_string()))
            .collect())
    }
    /// Whether buyers can use it (within its dates and limits).
    async fn active(&self) -> bool {
        self.0.active
    }
    /// When it was created (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Result of creating or changing a promotion code.
#[derive(SimpleObject)]
pub struct PromotionCodePayload {
    /// The code after the change.
    pub promotion: PromotionCode,
}
