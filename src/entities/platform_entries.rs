//! `platform_entries`: the marketplace's own ledger per order, in the shop's currency: the
//! commission it earns and what its promotions cost it.

use sea_orm::entity::prelude::*;

/// Why an entry was written; the sign of the amount follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum PlatformKind {
    /// + the commission on a paid order (− its share on a refund).
    #[sea_orm(string_value = "COMMISSION")]
    Commission,
    /// − the part of a platform-funded discount the order's commission covers.
    #[sea_orm(string_value = "DISCOUNT_ABSORBED")]
    DiscountAbsorbed,
    /// − the part of a platform-funded discount beyond the commission: a marketing expense.
    #[sea_orm(string_value = "PROMOTION_EXPENSE")]
    PromotionExpense,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "platform_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub order_id: Uuid,
    pub kind: PlatformKind,
    /// Signed, in minor units of `currency` (the order's shop currency).
    pub amount_minor: i64,
    pub currency: String,
    /// The refund that reversed part of it.
    pub refund_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
