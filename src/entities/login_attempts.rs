//! `login_attempts`: sign-in attempts per throttled key in the current window, shared by
//! every server on the database.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_attempts")]
pub struct Model {
    /// `email:<address>` or `client:<ip>`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// Unix seconds when the window began.
    pub window_started_at: i64,
    pub attempts: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
