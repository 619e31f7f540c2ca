//! Access tokens (JWT, HS256 pinned) and who is calling. Requests are authenticated once in
//! the transport; resolvers and services authorise explicitly with `CurrentUser`.

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    config::AuthSettings,
    entities::users::Role,
    error::{AppError, AppResult},
};

/// The claims of an access token.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub role: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: Uuid,
    /// The sign-in (refresh-token family) this token belongs to, so a live connection can
    /// end with its session. Absent in tokens issued before it was added.
    #[serde(default)]
    pub sid: Option<Uuid>,
}

/// Signs and verifies access tokens.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    pub access_ttl_secs: i64,
}

impl TokenKeys {
    pub fn new(settings: &AuthSettings) -> anyhow::Result<Self> {
        let secret = settings.jwt_secret.expose_secret().as_bytes();
        // Only HS256 is accepted: a token naming any other algorithm, or none, fails.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        Ok(Self {
            encoding: EncodingKey::from_secret(secret)?,
            decoding: DecodingKey::from_secret(secret)?,
            validation,
            access_ttl_secs: settings.access_token_ttl_secs,
        })
    }

    /// A fresh access token for the user's session `sid`.
    pub fn issue(&self, user_id: Uuid, role: Role, sid: Uuid) -> AppResult<String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user_id,
            role: role.as_str().to_owned(),
            iat: now,
            exp: now + self.access_ttl_secs,
            jti: Uuid::now_v7(),
            sid: Some(sid),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("signing access token: {e}")))
    }

    /// Checks signature, algorithm and expiry.
    pub fn verify(&self, token: &str) -> Result<CurrentUser, AuthFailure> {
        self.session(token).map(|s| s.user)
    }

    /// Like `verify`, with when the token expires and which session it belongs to.
    pub fn session(&self, token: &str) -> Result<TokenSession, AuthFailure> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| match e.kind() {
                ErrorKind::ExpiredSignature => AuthFailure::Expired,
                _ => AuthFailure::Invalid,
            })?;
        let role = Role::parse(&data.claims.role).ok_or(AuthFailure::Invalid)?;
        Ok(TokenSession {
            user: CurrentUser {
                id: data.claims.sub,
                role,
            },
            expires_at: data.claims.exp,
            sid: data.claims.sid,
        })
    }
}

/// What a verified token says beyond the caller: how long it lives and its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenSession {
    pub user: CurrentUser,
    /// Unix seconds.
    pub expires_at: i64,
    pub sid: Option<Uuid>,
}

impl TokenSession {
    /// Whether revoking sessions of `user` (one family, or all when `family` is `None`)
    /// ends this one.
    pub fn revoked_by(&self, user: Uuid, family: Option<Uuid>) -> bool {
        self.user.id == user && (family.is_none() || family == self.sid)
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CurrentUser {
    pub id: Uuid,
    pub role: Role,
}

impl CurrentUser {
    /// Whether the caller manages what `owner` owns (a shop, its products and money): the
    /// owner or an admin. The one place this rule is written.
    pub fn manages(&self, owner: Uuid) -> bool {
        self.role == Role::Admin || self.id == owner
    }

    /// Fails with `FORBIDDEN` unless the caller has one of the roles.
    pub fn require_role(&self, roles: &[Role]) -> AppResult<()> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "your role is not allowed to do this".into(),
            ))
        }
    }
}

/// The shop, if the caller manages it (its owner or an admin): `NOT_FOUND` for no shop,
/// `FORBIDDEN` for someone else's.
pub async fn managed_shop(
    db: &impl sea_orm::ConnectionTrait,
    caller: CurrentUser,
    shop_id: Uuid,
) -> AppResult<crate::entities::shops::Model> {
    use sea_orm::EntityTrait;
    let shop = crate::entities::shops::Entity::find_by_id(shop_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such shop".into()))?;
    if caller.manages(shop.owner_id) {
        Ok(shop)
    } else {
        Err(AppError::Forbidden("this is not your shop".into()))
    }
}

/// Fails with `EMAIL_NOT_VERIFIED` unless `user` has verified their email address: what an
/// artisan needs before the public sees their products.
pub async fn require_verified_email(
    db: &impl sea_orm::ConnectionTrait,
    user: Uuid,
) -> AppResult<()> {
    use sea_orm::{EntityTrait, QuerySelect};
    let verified: Option<Option<chrono::DateTime<Utc>>> =
        crate::entities::users::Entity::find_by_id(user)
            .select_only()
            .column(crate::entities::users::Column::EmailVerifiedAt)
            .into_tuple()
            .one(db)
            .await?;
    match verified {
        Some(Some(_)) => Ok(()),
        _ => Err(AppError::refused(
            "EMAIL_NOT_VERIFIED",
            "the shop owner's email address must be verified before products are published; \
             follow the link in the verification email or ask for a new one",
        )),
    }
}

/// Why a presented token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    Expired,
    Invalid,
}

/// What the transport learned about the caller; put into every GraphQL request's data.
#[derive(Debug, Clone, Copy)]
pub enum Caller {
    Anonymous,
    User(CurrentUser),
    Rejected(AuthFailure),
}

impl Caller {
    /// From an `Authorization` header value or a WebSocket init payload's token.
    pub fn from_bearer(keys: &TokenKeys, header: Option<&str>) -> Self {
        match Self::session_from_bearer(keys, header) {
            Ok(Some(session)) => Self::User(session.user),
            Ok(None) => Self::Anonymous,
            Err(failure) => Self::Rejected(failure),
        }
    }

    /// The token's session; `None` without a token.
    pub fn session_from_bearer(
        keys: &TokenKeys,
        header: Option<&str>,
    ) -> Result<Option<TokenSession>, AuthFailure> {
        let Some(value) = header else {
            return Ok(None);
        };
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .unwrap_or(value)
            .trim();
        keys.session(token).map(Some)
    }

    /// `CurrentUser::manages` for a caller who may not be signed in.
    pub fn manages(&self, owner: Uuid) -> bool {
        matches!(self, Self::User(u) if u.manages(owner))
    }

    /// The signed-in user, or `UNAUTHENTICATED` saying why not.
    pub fn user(&self) -> AppResult<CurrentUser> {
        match self {
            Self::User(user) => Ok(*user),
            Self::Anonymous => Err(AppError::Unauthenticated("sign in first".into())),
            Self::Rejected(AuthFailure::Expired) => Err(AppError::Unauthenticated(
                "access token expired; refresh the session".into(),
            )),
            Self::Rejected(AuthFailure::Invalid) => {
                Err(AppError::Unauthenticated("access token is invalid".into()))
            }
        }
    }
}

/// Reads the caller from a resolver's context.
pub trait CallerExt {
    fn caller(&self) -> Caller;
    fn current_user(&self) -> AppResult<CurrentUser> {
        self.caller().user()
    }
}

impl CallerExt for async_graphql::Context<'_> {
    fn caller(&self) -> Caller {
        self.data_opt::<Caller>()
            .copied()
            .unwrap_or(Caller::Anonymous)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn keys() -> TokenKeys {
        let settings = Settings::from_figment(Settings::figment("none")).expect("defaults");
        TokenKeys::new(&settings.auth).expect("keys")
    }

    // jsonwebtoken compiles without a crypto backend and then panics at the first use;
    // this keeps the feature choice honest.
    #[test]
    fn signs_and_verifies() {
        let keys = keys();
        let id = Uuid::now_v7();
        let token = keys.issue(id, Role::Artisan, Uuid::now_v7()).expect("sign");
        let user = keys.verify(&token).expect("verify");
        assert_eq!(
            user,
            CurrentUser {
                id,
                role: Role::Artisan
            }
        );
    }

    #[test]
    fn rejects_tampering() {
        let keys = keys();
        let token = keys
            .issue(Uuid::now_v7(), Role::Buyer, Uuid::now_v7())
            .expect("sign");
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[2] = parts[2].chars().rev().collect();
        assert_eq!(keys.verify(&parts.join(".")), Err(AuthFailure::Invalid));
    }
}
