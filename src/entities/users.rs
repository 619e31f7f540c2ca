//! `users`: everyone who signs in.

use sea_orm::entity::prelude::*;

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Role {
    #[sea_orm(string_value = "BUYER")]
    Buyer,
    #[sea_orm(string_value = "ARTISAN")]
    Artisan,
    #[sea_orm(string_value = "ADMIN")]
    Admin,
    /// Granted by an admin: reads the market statistics at full resolution.
    #[sea_orm(string_value = "RESEARCHER")]
    Researcher,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Buyer => "BUYER",
            Self::Artisan => "ARTISAN",
            Self::Admin => "ADMIN",
            Self::Researcher => "RESEARCHER",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "BUYER" => Some(Self::Buyer),
            "ARTISAN" => Some(Self::Artisan),
            "ADMIN" => Some(Self::Admin),
            "RESEARCHER" => Some(Self::Researcher),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub display_name: String,
    pub role: Role,
    pub country: String,
    pub preferred_language: String,
    pub preferred_currency: String,
    pub email_verified_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::refresh_tokens::Entity")]
    RefreshTokens,
}

impl Related<super::refresh_tokens::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RefreshTokens.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
