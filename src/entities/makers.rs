//! `makers`: the people who make a shop's work.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "makers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub shop_id: Uuid,
    pub name: String,
    pub region: String,
    pub craft: String,
    pub years_practising: Option<i32>,
    /// JSON object: language tag to biography.
    pub biography: String,
    pub portrait_image_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    /// When the maker consented to be counted by their characteristics; without it the
    /// fields below are empty and the maker counts only in totals.
    pub statistics_consent_at: Option<DateTimeUtc>,
    /// Self-declared: `FEMALE`, `MALE` or `OTHER`.
    pub gender: Option<String>,
    pub birth_year: Option<i32>,
    pub cooperative_member: Option<bool>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
