//! Input objects of the accounts GraphQL.

use super::types::*;
use async_graphql::InputObject;

/// A new account.
#[derive(InputObject)]
pub struct RegisterInput {
    /// Sign-in email; unique regardless of letter case.
    pub email: String,
    /// 10 to 128 characters.
    pub password: String,
    /// Name shown to other people, 1 to 100 characters.
    pub display_name: String,
    /// BUYER or ARTISAN; admins are created on the command line.
    pub role: UserRole,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// BCP 47 language tag, e.g. `mn` or `en`.
    pub preferred_language: String,
    /// ISO 4217 currency code, e.g. `MNT`, `USD`, `EUR`.
    pub preferred_currency: String,
    /// A guest cart to move into the new account's cart.
    pub cart_token: Option<String>,
}

/// Credentials to sign in with.
#[derive(InputObject)]
pub struct LoginInput {
    /// Sign-in email, in any letter case.
    pub email: String,
    /// The account's password.
    pub password: String,
    /// A guest cart to move into the account's cart.
    pub cart_token: Option<String>,
}

/// A refresh token to exchange for a new session.
#[derive(InputObject)]
pub struct RefreshSessionInput {
    /// The refresh token from the last `AuthPayload`.
    pub refresh_token: String,
}

/// The session to end.
#[derive(InputObject)]
pub struct LogoutInput {
    /// The session's current refresh token.
    pub refresh_token: String,
}

/// Profile changes; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateProfileInput {
    /// New display name, 1 to 100 characters.
    pub display_name: Option<String>,
    /// New ISO 3166-1 alpha-2 country code.
    pub country: Option<String>,
    /// New BCP 47 language tag.
    pub preferred_language: Option<String>,
    /// New ISO 4217 currency code.
    pub preferred_currency: Option<String>,
}

/// A password change.
#[derive(InputObject)]
pub struct ChangePasswordInput {
    /// The password in use now.
    pub current_password: String,
    /// The new password, 10 to 128 characters.
    pub new_password: String,
}

/// Asking for a password reset link.
#[derive(InputObject)]
pub struct RequestPasswordResetInput {
    /// The account's email address.
    pub email: String,
}

/// Choosing a new password with the token from a reset link.
#[derive(InputObject)]
pub struct ResetPasswordInput {
    /// The token from the link in the reset email.
    pub token: String,
    /// The new password, 10 to 128 characters.
    pub new_password: String,
}

/// Confirming an email address with the token from a verification link.
#[derive(InputObject)]
pub struct VerifyEmailInput {
    /// The token from the link in the verification email.
    pub token: String,
}
