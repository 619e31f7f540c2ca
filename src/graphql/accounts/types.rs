//! Output types of the accounts GraphQL.

use crate::accounts::service::Session;
use crate::entities::users::{self, Role};
use async_graphql::{Enum, ID, Object};
use chrono::{DateTime, Utc};

/// What a user may do on the marketplace.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum UserRole {
    /// Browses, keeps a cart, orders and pays.
    Buyer,
    /// Runs a shop and sells their work.
    Artisan,
    /// Curates the marketplace and manages money and shops.
    Admin,
    /// Granted by an admin: reads the market statistics at full resolution (still
    /// k-protected); otherwise a buyer.
    Researcher,
}

impl From<Role> for UserRole {
    fn from(role: Role) -> Self {
        match role {
            Role::Buyer => Self::Buyer,
            Role::Artisan => Self::Artisan,
            Role::Admin => Self::Admin,
            Role::Researcher => Self::Researcher,
        }
    }
}

impl From<UserRole> for Role {
    fn from(role: UserRole) -> Self {
        match role {
            UserRole::Buyer => Self::Buyer,
            UserRole::Artisan => Self::Artisan,
            UserRole::Admin => Self::Admin,
            UserRole::Researcher => Self::Researcher,
        }
    }
}

/// A person with an account: a buyer, an artisan or an admin.
pub struct User(pub users::Model);

/// A person with an account: a buyer, an artisan or an admin.
#[Object]
impl User {
    /// Stable identifier of the user.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// Sign-in email, lower-cased.
    async fn email(&self) -> &str {
        &self.0.email
    }

    /// Name shown to other people.
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }

    /// What the user may do.
    async fn role(&self) -> UserRole {
        self.0.role.into()
    }

    /// ISO 3166-1 alpha-2 country code, e.g. `MN` or `DE`.
    async fn country(&self) -> &str {
        &self.0.country
    }

    /// BCP 47 tag of the language the user reads, e.g. `mn` or `en`.
    async fn preferred_language(&self) -> &str {
        &self.0.preferred_language
    }

    /// ISO 4217 code of the currency prices are shown in, e.g. `MNT` or `EUR`.
    async fn preferred_currency(&self) -> &str {
        &self.0.preferred_currency
    }

    /// Whether the user has confirmed their email address.
    async fn email_verified(&self) -> bool {
        self.0.email_verified_at.is_some()
    }

    /// When the account was created (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A signed-in session.
pub struct AuthPayload(pub(super) Session, pub(super) Option<GuestCartMerge>);

/// A signed-in session: send `accessToken` as `Authorization: Bearer …`, and exchange
/// `refreshToken` through `refreshSession` before the access token expires.
#[Object]
impl AuthPayload {
    /// Short-lived JWT for the `Authorization: Bearer` header.
    async fn access_token(&self) -> &str {
        &self.0.access_token
    }

    /// Seconds until the access token expires.
    async fn access_token_expires_in(&self) -> i64 {
        self.0.access_token_expires_in
    }

    /// Opaque token for `refreshSession`; it can be used once and must be kept secret.
    async fn refresh_token(&self) -> &str {
        &self.0.refresh_token
    }

    /// The signed-in user.
    async fn user(&self) -> User {
        User(self.0.user.clone())
    }

    /// What became of the guest cart named by `cartToken`; null when none was sent.
    async fn guest_cart(&self) -> Option<GuestCartMerge> {
        self.1
    }
}

/// The outcome of moving a guest cart into the account's cart at sign-in.
#[derive(async_graphql::SimpleObject, Clone, Copy)]
pub struct GuestCartMerge {
    /// False when no cart has the token (it expired, was merged already or was mistyped):
    /// the client should forget the token.
    pub found: bool,
    /// How many lines of the guest cart were added to the account's cart.
    pub merged_lines: i32,
}

/// Result of `logout`.
#[derive(async_graphql::SimpleObject)]
pub struct LogoutPayload {
    /// Always true: the session is over, whether or not it was still active.
    pub success: bool,
}

/// Result of `updateProfile`.
#[derive(async_graphql::SimpleObject)]
pub struct UpdateProfilePayload {
    /// The user after the change.
    pub user: User,
}

/// Result of `requestPasswordReset`: the same whether or not an account has the address.
#[derive(async_graphql::SimpleObject)]
pub struct RequestPasswordResetPayload {
    /// Always true when the request was taken; says nothing about the account.
    pub accepted: bool,
}

/// Result of `resetPassword`: every session of the account has ended; sign in again.
#[derive(async_graphql::SimpleObject)]
pub struct ResetPasswordPayload {
    /// The account whose password changed.
    pub user: User,
}

/// Result of `verifyEmail`.
#[derive(async_graphql::SimpleObject)]
pub struct VerifyEmailPayload {
    /// The account, now with `emailVerified` true.
    pub user: User,
}

/// Result of `resendVerification`.
#[derive(async_graphql::SimpleObject)]
pub struct ResendVerificationPayload {
    /// True: a new link is on its way and earlier links no longer work.
    pub sent: bool,
}
