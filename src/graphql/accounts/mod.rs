//! GraphQL face of accounts: thin resolvers over `service`.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, Subscription};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use sea_orm::EntityTrait;

use crate::accounts::service::{self, NewAccount, ProfileChanges, Session};
use crate::{
    auth::CallerExt,
    entities::users::{self, Role},
    events::DomainEvent,
    kit::{ClientAddress, pagination},
    state::AppState,
};

/// What a user may do on the marketplace.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum UserRole {
    /// Browses, keeps a cart, orders and pays.
    Buyer,
    /// Runs a shop and sells their work.
    Artisan,
    /// Curates the marketplace and manages money and shops.
    Admin,
}

impl From<Role> for UserRole {
    fn from(role: Role) -> Self {
        match role {
            Role::Buyer => Self::Buyer,
            Role::Artisan => Self::Artisan,
            Role::Admin => Self::Admin,
        }
    }
}

impl From<UserRole> for Role {
    fn from(role: UserRole) -> Self {
        match role {
            UserRole::Buyer => Self::Buyer,
            UserRole::Artisan => Self::Artisan,
            UserRole::Admin => Self::Admin,
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
pub struct AuthPayload(Session, Option<GuestCartMerge>);

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

/// Moves a guest cart into the account just signed in to. A token that opens no cart (say,
/// already merged on another device) must not fail the sign-in, so it is skipped.
/// Merges the guest cart, if a token was sent; an unknown token is reported, not an error,
/// since the sign-in itself succeeded.
async fn merge_cart(
    state: &AppState,
    token: Option<String>,
    session: &Session,
) -> Result<Option<GuestCartMerge>> {
    let Some(token) = token else {
        return Ok(None);
    };
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
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The signed-in user.
    async fn me(&self, ctx: &Context<'_>) -> Result<User> {
        let state = ctx.data::<AppState>()?;
        Ok(User(service::me(&state.db, ctx.current_user()?).await?))
    }

    /// Every account, oldest first. Admins only.
    #[graphql(complexity = "pagination::complexity(first, last, child_complexity)")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n users after `after` (at most 100).")] first: Option<
            i64,
        >,
        #[graphql(desc = "Cursor of the edge to start after.")] after: Option<String>,
        #[graphql(desc = "Return the last n users before `before` (at most 100).")] last: Option<
            i64,
        >,
        #[graphql(desc = "Cursor of the edge to end before.")] before: Option<String>,
    ) -> Result<pagination::IdConnection<User>> {
        let state = ctx.data::<AppState>()?;
        ctx.current_user()?.require_role(&[Role::Admin])?;
        let page = pagination::PageArgs::new(first, after, last, before)?;
        let page =
            pagination::by_id(&state.db, users::Entity::find(), users::Column::Id, page).await?;
        Ok(page.into_connection(|u| u.id, User))
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
}

#[derive(Default)]
pub struct AccountSubscription;

#[Subscription]
impl AccountSubscription {
    /// The signed-in user's profile each time it changes, e.g. from another device.
    async fn profile_updated(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = User>> {
        let state = ctx.data::<AppState>()?;
        let me = ctx.current_user()?;
        let db = state.db.clone();
        Ok(state.events.stream().filter_map(move |event| {
            let db = db.clone();
            async move {
                match event {
                    DomainEvent::ProfileUpdated { user_id } if user_id == me.id => {
                        match service::me(&db, me).await {
                            Ok(user) => Some(User(user)),
                            Err(err) => {
                                tracing::error!(error = ?err, "profileUpdated could not read the user");
                                None
                            }
                        }
                    }
                    _ => None,
                }
            }
        }))
    }
}
