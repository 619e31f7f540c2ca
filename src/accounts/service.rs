//! Account use cases: registration, sessions, profile, passwords. GraphQL and the CLI call
//! these; every rule about accounts lives here.

use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, Set, sea_query::Expr,
};
use uuid::Uuid;

use super::password;
use crate::throttle;
use crate::tokens;
use crate::{
    auth::CurrentUser,
    entities::{
        refresh_tokens,
        users::{self, Role},
    },
    error::{AppError, AppResult, OnConflict},
    events::DomainEvent,
    i18n::{CountryCode, LanguageTag},
    money::Currency,
    state::AppState,
};

/// What a new account needs.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub email: String,
    pub password: String,
    pub display_name: String,
    pub role: Role,
    pub country: String,
    pub preferred_language: String,
    pub preferred_currency: String,
}

/// Changes to a profile; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfileChanges {
    pub display_name: Option<String>,
    pub country: Option<String>,
    pub preferred_language: Option<String>,
    pub preferred_currency: Option<String>,
}

/// A signed-in session: a short-lived access token and a refresh token to renew it.
#[derive(Debug, Clone)]
pub struct Session {
    pub access_token: String,
    pub access_token_expires_in: i64,
    pub refresh_token: String,
    pub user: users::Model,
}

const LOGIN_FAILED: &str = "email or password is incorrect";

/// The form emails are stored and looked up in.
fn email_key(input: &str) -> String {
    input.trim().to_lowercase()
}

/// Lower-cased and parsed as RFC 5321/5322 by `email_address`, with the limits mail servers
/// hold to, and a dotted domain: an address mail can actually be delivered to.
pub fn normalize_email(input: &str) -> AppResult<String> {
    let email = email_key(input);
    let options = email_address::Options::default()
        .without_display_text()
        .without_domain_literal();
    let valid = email.len() <= 254
        && email_address::EmailAddress::parse_with_options(&email, options).is_ok_and(|a| {
            let domain = a.domain();
            domain.contains('.') && !domain.ends_with('.') && a.local_part().len() <= 64
        });
    if valid {
        Ok(email)
    } else {
        Err(AppError::invalid("email", "enter a valid email address"))
    }
}

fn display_name(input: &str) -> AppResult<String> {
    let name = input.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid(
            "displayName",
            "display name must be 1 to 100 characters",
        ));
    }
    Ok(name.to_owned())
}

fn country(field: &'static str, input: &str) -> AppResult<String> {
    Ok(CountryCode::parse_field(field, input)?.as_str().to_owned())
}

fn language(field: &'static str, input: &str) -> AppResult<String> {
    Ok(LanguageTag::parse_field(field, input)?.as_str().to_owned())
}

fn currency(field: &'static str, input: &str) -> AppResult<String> {
    Ok(Currency::parse_field(field, input)?.code().to_owned())
}

/// Creates a BUYER or ARTISAN account and signs it in.
#[tracing::instrument(skip_all)]
pub async fn register(state: &AppState, input: NewAccount) -> AppResult<Session> {
    if matches!(input.role, Role::Admin | Role::Researcher) {
        return Err(AppError::invalid(
            "role",
            "only BUYER or ARTISAN accounts can register",
        ));
    }
    let user = new_user(input).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    let user = user
        .insert(&txn)
        .await
        .on_conflict("an account with this email already exists")?;
    super::email_links::welcome(&txn, &user).await?;
    let session = start_session(state, &txn, user, Uuid::now_v7()).await?;
    txn.commit().await?;
    Ok(session)
}

/// Creates an ADMIN from the command line.
pub async fn create_admin(
    db: &DatabaseConnection,
    email: &str,
    password: &str,
    display_name: &str,
) -> AppResult<users::Model> {
    let user = new_user(NewAccount {
        email: email.into(),
        password: password.into(),
        display_name: display_name.into(),
        role: Role::Admin,
        country: "MN".into(),
        preferred_language: "mn".into(),
        preferred_currency: "MNT".into(),
    })
    .await?;
    let mut user = user;
    // Whoever runs the command line vouches for the address.
    user.email_verified_at = Set(Some(Utc::now()));
    user.insert(db)
        .await
        .on_conflict("an account with this email already exists")
}

async fn new_user(input: NewAccount) -> AppResult<users::ActiveModel> {
    let email = normalize_email(&input.email)?;
    password::validate("password", &input.password)?;
    let now = Utc::now();
    Ok(users::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email),
        display_name: Set(display_name(&input.display_name)?),
        role: Set(input.role),
        country: Set(country("country", &input.country)?),
        preferred_language: Set(language("preferredLanguage", &input.preferred_language)?),
        preferred_currency: Set(currency("preferredCurrency", &input.preferred_currency)?),
        password_hash: Set(password::hash(input.password).await?),
        email_verified_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    })
}

/// Signs in with email and password. Attempts are counted per email and per client before
/// the password is checked (see `throttle`), and an unknown email takes as long and says
/// the same as a wrong password.
#[tracing::instrument(skip_all)]
pub async fn login(
    state: &AppState,
    email: &str,
    password: &str,
    client: Option<&str>,
) -> AppResult<Session> {
    let auth = &state.settings.auth;
    let email = email_key(email);
    // Keys stay short whatever is typed; no account has an email this long anyway.
    let email_key = format!("email:{}", email.chars().take(320).collect::<String>());
    let client_key = client.map(|c| format!("client:{c}"));
    let mut keys = vec![(email_key.as_str(), auth.login_max_failures_per_email)];
    if let Some(key) = &client_key {
        keys.push((key.as_str(), auth.login_max_failures_per_client));
    }
    throttle::attempt_all(&state.db, &keys, auth.login_failure_window_secs).await?;

    let user = users::Entity::find()
        .filter(users::Column::Email.eq(&email))
        .one(&state.db)
        .await?;
    let ok = password::verify(
        password.to_owned(),
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await?;
    let user = match user {
        Some(user) if ok => user,
        _ => return Err(AppError::Unauthenticated(LOGIN_FAILED.into())),
    };
    throttle::forget(&state.db, &email_key).await?;
    if let Some(key) = &client_key {
        throttle::give_back(&state.db, key).await?;
    }
    let txn = crate::db::begin_write(&state.db).await?;
    let session = start_session(state, &txn, user, Uuid::now_v7()).await?;
    txn.commit().await?;
    Ok(session)
}

/// Issues an access token and a refresh token in the given family.
async fn start_session(
    state: &AppState,
    db: &impl ConnectionTrait,
    user: users::Model,
    family_id: Uuid,
) -> AppResult<Session> {
    let refresh_token = tokens::generate();
    let now = Utc::now();
    refresh_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        family_id: Set(family_id),
        token_hash: Set(tokens::hash(&refresh_token)),
        expires_at: Set(now + Duration::days(state.settings.auth.refresh_token_ttl_days)),
        created_at: Set(now),
        used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(Session {
        access_token: state.keys.issue(user.id, user.role, family_id)?,
        access_token_expires_in: state.keys.access_ttl_secs,
        refresh_token,
        user,
    })
}

/// Exchanges a refresh token for a new session in the same family. The old token is spent;
/// presenting a spent token again revokes the whole family, since one copy was stolen.
#[tracing::instrument(skip_all)]
pub async fn refresh(state: &AppState, refresh_token: &str) -> AppResult<Session> {
    let hash = tokens::hash(refresh_token);
    let now = Utc::now();
    let txn = crate::db::begin_write(&state.db).await?;
    // Writing first takes SQLite's write lock at once and makes concurrent use of one token
    // race-free: exactly one caller spends it.
    let spent = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::UsedAt, Expr::value(now))
        .filter(refresh_tokens::Column::TokenHash.eq(&hash))
        .filter(refresh_tokens::Column::UsedAt.is_null())
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .filter(refresh_tokens::Column::ExpiresAt.gt(now))
        .exec(&txn)
        .await?
        .rows_affected;
    let token = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(&hash))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::Unauthenticated("refresh token is invalid".into()))?;
    if spent == 0 {
        if token.used_at.is_some() && token.revoked_at.is_none() {
            tracing::warn!(family = %token.family_id, user = %token.user_id, "refresh token reuse; revoking family");
            revoke_family(&txn, token.family_id).await?;
            txn.commit().await?;
            sessions_ended(state, token.user_id, Some(token.family_id)).await;
        }
        return Err(AppError::Unauthenticated(
            "refresh token is no longer valid; sign in again".into(),
        ));
    }
    let user = users::Entity::find_by_id(token.user_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::Unauthenticated("refresh token is invalid".into()))?;
    let session = start_session(state, &txn, user, token.family_id).await?;
    txn.commit().await?;
    Ok(session)
}

/// Ends the session the refresh token belongs to. Unknown tokens are accepted silently so a
/// client can always log out.
#[tracing::instrument(skip_all)]
pub async fn logout(state: &AppState, refresh_token: &str) -> AppResult<()> {
    let token = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(tokens::hash(refresh_token)))
        .one(&state.db)
        .await?;
    if let Some(token) = token {
        revoke_family(&state.db, token.family_id).await?;
        sessions_ended(state, token.user_id, Some(token.family_id)).await;
    }
    Ok(())
}

/// Tells live connections that sessions ended (one family, or all of the user's), after the
/// change committed, so sockets opened with them close on every server.
pub(super) async fn sessions_ended(state: &AppState, user_id: Uuid, family: Option<Uuid>) {
    state
        .events
        .publish(DomainEvent::SessionsRevoked { user_id, family })
        .await;
}

/// Ends every session of a user: no refresh token of theirs works any more. The caller tells
/// live connections after committing (`sessions_ended`).
pub(super) async fn revoke_all(db: &impl ConnectionTrait, user: Uuid) -> AppResult<()> {
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_tokens::Column::UserId.eq(user))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

async fn revoke_family(db: &impl ConnectionTrait, family_id: Uuid) -> AppResult<()> {
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_tokens::Column::FamilyId.eq(family_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// The language a signed-in user reads, for requests that name none.
pub async fn preferred_language(
    db: &impl ConnectionTrait,
    caller: CurrentUser,
) -> AppResult<Option<String>> {
    Ok(users::Entity::find_by_id(caller.id)
        .select_only()
        .column(users::Column::PreferredLanguage)
        .into_tuple::<String>()
        .one(db)
        .await?)
}

/// Every account, for admins.
pub fn all_users(caller: CurrentUser) -> AppResult<sea_orm::Select<users::Entity>> {
    caller.require_role(&[Role::Admin])?;
    Ok(users::Entity::find())
}

/// The caller's own account.
pub async fn me(db: &impl ConnectionTrait, caller: CurrentUser) -> AppResult<users::Model> {
    users::Entity::find_by_id(caller.id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::Unauthenticated("this account no longer exists".into()))
}

/// Changes the caller's profile and tells their other live clients.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn update_profile(
    state: &AppState,
    caller: CurrentUser,
    changes: ProfileChanges,
) -> AppResult<users::Model> {
    let user = me(&state.db, caller).await?;
    let mut active: users::ActiveModel = user.into();
    if let Some(name) = &changes.display_name {
        active.display_name = Set(display_name(name)?);
    }
    if let Some(c) = &changes.country {
        active.country = Set(country("country", c)?);
    }
    if let Some(l) = &changes.preferred_language {
        active.preferred_language = Set(language("preferredLanguage", l)?);
    }
    if let Some(c) = &changes.preferred_currency {
        active.preferred_currency = Set(currency("preferredCurrency", c)?);
    }
    active.updated_at = Set(Utc::now());
    let user = active.update(&state.db).await?;
    state
        .events
        .publish(DomainEvent::ProfileUpdated { user_id: user.id })
        .await;
    Ok(user)
}

/// Replaces the password after checking the current one, signs out every other session and
/// returns a fresh one.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn change_password(
    state: &AppState,
    caller: CurrentUser,
    current: &str,
    new: &str,
) -> AppResult<Session> {
    let user = me(&state.db, caller).await?;
    if !password::verify(current.to_owned(), Some(user.password_hash.clone())).await? {
        return Err(AppError::invalid(
            "currentPassword",
            "current password is incorrect",
        ));
    }
    password::validate("newPassword", new)?;
    let hash = password::hash(new.to_owned()).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    let mut active: users::ActiveModel = user.into();
    active.password_hash = Set(hash);
    active.updated_at = Set(Utc::now());
    let user = active.update(&txn).await?;
    revoke_all(&txn, user.id).await?;
    let session = start_session(state, &txn, user, Uuid::now_v7()).await?;
    txn.commit().await?;
    sessions_ended(state, session.user.id, None).await;
    Ok(session)
}

#[cfg(test)]
mod tests {
    use super::normalize_email;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalize_email("  Bat@Example.MN ").ok(),
            Some("bat@example.mn".into())
        );
        assert!(normalize_email("o'brien+felt@mail.example.de").is_ok());
        for bad in [
            "",
            "bat",
            "bat@",
            "@x.mn",
            "bat@mn",
            "b at@x.mn",
            "a@b@c.mn",
            "bat@.mn",
            "bat..erdene@x.mn",
            "Bat <bat@x.mn>",
            "bat@[127.0.0.1]",
            "bat@x.mn.",
            "bat@-x.mn",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }
}
