//! Where a buyer came from: the UTM tags and referring site a front end forwards with cart
//! operations. The last one seen stays with the cart (a guest's joins the account at sign-in
//! if newer) and is frozen on each order at checkout, which clears it: the next purchase is
//! attributed to whatever brings the buyer back.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::cart::CartOwner;
use crate::{
    entities::cart_attributions,
    error::{AppError, AppResult},
};

/// Longest tag kept, in characters.
const MAX_TAG: usize = 100;

/// A visit's channel.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attribution {
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    /// The referring site's host name.
    pub referrer: Option<String>,
}

impl Attribution {
    /// Reads what a client sent: tags trimmed and lower-cased, the referrer cut to its host.
    /// `None` when nothing was given.
    pub fn parse(
        source: Option<&str>,
        medium: Option<&str>,
        campaign: Option<&str>,
        referrer: Option<&str>,
    ) -> AppResult<Option<Self>> {
        let found = Self {
            source: tag("utmSource", source)?,
            medium: tag("utmMedium", medium)?,
            campaign: tag("utmCampaign", campaign)?,
            referrer: referrer.map(host).transpose()?.flatten(),
        };
        Ok((found != Self::default()).then_some(found))
    }
}

fn tag(field: &'static str, value: Option<&str>) -> AppResult<Option<String>> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > MAX_TAG || value.chars().any(char::is_control) {
        return Err(AppError::invalid(
            field,
            format!("a tag is at most {MAX_TAG} printable characters"),
        ));
    }
    Ok(Some(value.to_lowercase()))
}

/// The host of a referring address (`https://www.instagram.com/p/…` → `www.instagram.com`).
fn host(value: &str) -> AppResult<Option<String>> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    let rest = value.split_once("://").map_or(value, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    let host = host.split(':').next().unwrap_or_default().to_lowercase();
    let valid = host.len() <= MAX_TAG
        && host.contains('.')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if valid {
        Ok(Some(host))
    } else {
        Err(AppError::invalid(
            "referrer",
            "the referrer is the address of the page the buyer came from",
        ))
    }
}

fn owned_by(owner: CartOwner) -> sea_orm::Condition {
    match owner {
        CartOwner::User(id) => {
            sea_orm::Condition::all().add(cart_attributions::Column::UserId.eq(id))
        }
        CartOwner::Guest(id) => {
            sea_orm::Condition::all().add(cart_attributions::Column::GuestCartId.eq(id))
        }
    }
}

/// Remembers the channel of this visit for the cart, replacing the one before.
pub async fn remember(
    db: &impl ConnectionTrait,
    owner: CartOwner,
    seen: &Attribution,
) -> AppResult<()> {
    forget(db, owner).await?;
    let (user_id, guest_cart_id) = match owner {
        CartOwner::User(id) => (Some(id), None),
        CartOwner::Guest(id) => (None, Some(id)),
    };
    cart_attributions::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        guest_cart_id: Set(guest_cart_id),
        utm_source: Set(seen.source.clone()),
        utm_medium: Set(seen.medium.clone()),
        utm_campaign: Set(seen.campaign.clone()),
        referrer: Set(seen.referrer.clone()),
        captured_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The channel the cart was last reached through.
pub async fn of_cart(db: &impl ConnectionTrait, owner: CartOwner) -> AppResult<Attribution> {
    Ok(cart_attributions::Entity::find()
        .filter(owned_by(owner))
        .one(db)
        .await?
        .map(|row| Attribution {
            source: row.utm_source,
            medium: row.utm_medium,
            campaign: row.utm_campaign,
            referrer: row.referrer,
        })
        .unwrap_or_default())
}

/// Forgets the cart's channel (after checkout).
pub async fn forget(db: &impl ConnectionTrait, owner: CartOwner) -> AppResult<()> {
    cart_attributions::Entity::delete_many()
        .filter(owned_by(owner))
        .exec(db)
        .await?;
    Ok(())
}

/// At sign-in: a guest's channel joins the account when it is newer than the account's.
pub async fn merge_guest(db: &impl ConnectionTrait, guest: Uuid, user: Uuid) -> AppResult<()> {
    let find = |owner| {
        cart_attributions::Entity::find()
            .filter(owned_by(owner))
            .one(db)
    };
    let Some(theirs) = find(CartOwner::Guest(guest)).await? else {
        return Ok(());
    };
    let mine = find(CartOwner::User(user)).await?;
    if mine.is_some_and(|m| m.captured_at >= theirs.captured_at) {
        return Ok(());
    }
    forget(db, CartOwner::User(user)).await?;
    let mut moved: cart_attributions::ActiveModel = theirs.into();
    moved.user_id = Set(Some(user));
    moved.guest_cart_id = Set(None);
    moved.update(db).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_normalised_and_the_referrer_cut_to_its_host() {
        let a = Attribution::parse(
            Some(" Instagram "),
            Some("Social"),
            Some("naadam-2027"),
            Some("https://user@www.Instagram.com:443/p/abc?x=1#y"),
        )
        .expect("valid")
        .expect("given");
        assert_eq!(a.source.as_deref(), Some("instagram"));
        assert_eq!(a.medium.as_deref(), Some("social"));
        assert_eq!(a.referrer.as_deref(), Some("www.instagram.com"));
        assert!(
            Attribution::parse(None, Some("  "), None, Some(""))
                .expect("valid")
                .is_none()
        );
        assert!(Attribution::parse(None, None, None, Some("not a site")).is_err());
        assert!(Attribution::parse(Some(&"x".repeat(101)), None, None, None).is_err());
        assert!(Attribution::parse(Some("a\u{0}b"), None, None, None).is_err());
    }
}
