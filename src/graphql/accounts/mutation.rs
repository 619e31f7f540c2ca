//! Root mutation fields of the accounts GraphQL.

use super::{inputs::*, types::*};
use crate::accounts::email_links;
use crate::accounts::service::{self, NewAccount, ProfileChanges, Session};
use crate::{auth::CallerExt, kit::ClientAddress, state::AppState};
use async_graphql::{Context, Object, Result};

/// Moves a guest's cart and favourites into the account just signed in to, if a token was
/// sent. A token that opens no cart (say, already merged on another device) must not fail
/// the sign-in: it is reported, not an error.
pub(super) async fn merge_cart(
    state: &AppState,
    token: Option<String>,
    session: &Session,
) -> Result<Option<GuestCartMerge>> {
    let Some(token) = token else {
        return Ok(None);
    };
    // Favourites first: merging the cart forgets the guest cart they hang on.
    crate::marketing::favourites::merge_guest(state, &token, session.user.id).await?;
    match crate::orders::cart::merge_guest_cart(state, &token, session.user.id).await {
        Ok(lines) => Ok(Some(GuestCartMerge {
            found: true,
            merged_lines: i32::try_from(lines).unwrap_or(i32::MAX),
        })),
        Err(crate::error::AppError::Invalid { .. }) => Ok(Some(GuestCartMerge {
            found: false,
            merged_lines: 0,
        })),
        Err(e) => Err(e.into()),
    }
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Creates a buyer or artisan account and signs it in.
    async fn register(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new account.")] input: RegisterInput,
    ) -> Result<AuthPayload> {
        let state = ctx.data::<AppState>()?;
        let cart_token = input.cart_token;
        let session = service::register(
            state,
            NewAccount {
                email: input.email,
                password: input.password,
                display_name: input.display_name,
                role: input.role.into(),
                country: input.country,
                preferred_language: input.preferred_language,
                preferred_currency: input.preferred_currency,
            },
        )
        .await?;
        let merged = merge_cart(state, cart_token, &session).await?;
        Ok(AuthPayload(session, merged))
    }

    /// Signs in with email and password.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Email and password.")] input: LoginInput,
    ) -> Result<AuthPayload> {
        let state = ctx.data::<AppState>()?;
        let client = ctx.data_opt::<ClientAddress>().and_then(|c| c.0.as_deref());
        let session = service::login(state, &input.email, &input.password, client).await?;
        let merged = merge_cart(state, input.cart_token, &session).await?;
        Ok(AuthPayload(session, merged))
    }

    /// Exchanges a refresh token for a new session; the old refresh token stops working.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The refresh token to exchange.")] input: RefreshSessionInput,
    ) -> Result<AuthPayload> {
        let state = ctx.data::<AppState>()?;
        Ok(AuthPayload(
            service::refresh(state, &input.refresh_token).await?,
            None,
        ))
    }

    /// Ends the session that the refresh token belongs to.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session to end.")] input: LogoutInput,
    ) -> Result<LogoutPayload> {
        let state = ctx.data::<AppState>()?;
        service::logout(state, &input.refresh_token).await?;
        Ok(LogoutPayload { success: true })
    }

    /// Changes the signed-in user's profile.
    async fn update_profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields to change.")] input: UpdateProfileInput,
    ) -> Result<UpdateProfilePayload> {
        let state = ctx.data::<AppState>()?;
        let changes = ProfileChanges {
            display_name: input.display_name,
            country: input.country,
            preferred_language: input.preferred_language,
            preferred_currency: input.preferred_currency,
        };
        let user = service::update_profile(state, ctx.current_user()?, changes).await?;
        Ok(UpdateProfilePayload { user: User(user) })
    }

    /// Changes the password, signs out every session and returns a new one.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The current and the new password.")] input: ChangePasswordInput,
    ) -> Result<AuthPayload> {
        let state = ctx.data::<AppState>()?;
        let session = service::change_password(
            state,
            ctx.current_user()?,
            &input.current_password,
            &input.new_password,
        )
        .await?;
        Ok(AuthPayload(session, None))
    }

    /// Sends a password reset link if an account has this email. The answer is the same
    /// either way; requests are limited per email and per client (TOO_MANY_REQUESTS).
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account's email.")] input: RequestPasswordResetInput,
    ) -> Result<RequestPasswordResetPayload> {
        let state = ctx.data::<AppState>()?;
        let client = ctx.data_opt::<ClientAddress>().and_then(|c| c.0.as_deref());
        email_links::request_password_reset(state, &input.email, client).await?;
        Ok(RequestPasswordResetPayload { accepted: true })
    }

    /// Sets a new password with the token from a reset link (valid 1 hour, once). Every
    /// session of the account ends: refresh tokens stop working and live sockets close.
    /// A used, expired or unknown token answers INVALID_TOKEN.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token and the new password.")] input: ResetPasswordInput,
    ) -> Result<ResetPasswordPayload> {
        let state = ctx.data::<AppState>()?;
        let user = email_links::reset_password(state, &input.token, &input.new_password).await?;
        Ok(ResetPasswordPayload { user: User(user) })
    }

    /// Confirms an email address with the token from its verification link (valid 7 days,
    /// once). Works without signing in, e.g. on another device.
    async fn verify_email(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token from the link.")] input: VerifyEmailInput,
    ) -> Result<VerifyEmailPayload> {
        let state = ctx.data::<AppState>()?;
        let user = email_links::verify_email(state, &input.token).await?;
        Ok(VerifyEmailPayload { user: User(user) })
    }

    /// Sends the signed-in user a new verification link; earlier links stop working.
    /// CONFLICT when already verified.
    async fn resend_verification(&self, ctx: &Context<'_>) -> Result<ResendVerificationPayload> {
        let state = ctx.data::<AppState>()?;
        let client = ctx.data_opt::<ClientAddress>().and_then(|c| c.0.as_deref());
        email_links::resend_verification(state, ctx.current_user()?, client).await?;
        Ok(ResendVerificationPayload { sent: true })
    }
}
