//! Signed one-click unsubscribe links (RFC 8058): the link itself is the proof, so it works
//! from any mail client without signing in, and cannot be forged for someone else.

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;
use uuid::Uuid;

use crate::{outbox::Kind, state::AppState};

fn signature(state: &AppState, user: Uuid, topic: &str) -> Option<String> {
    let secret = state.settings.auth.jwt_secret.expose_secret();
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(b"unsubscribe\0");
    mac.update(user.as_bytes());
    mac.update(topic.as_bytes());
    Some(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

/// `user:topic:signature`, where the topic is a kind or `MARKETING`.
pub fn unsubscribe_token(state: &AppState, user: Uuid, topic: &str) -> String {
    let sig = signature(state, user, topic).unwrap_or_default();
    format!("{user}:{topic}:{sig}")
}

/// The address that turns `kind` off for `user` with one POST.
pub fn unsubscribe_url(state: &AppState, user: Uuid, kind: Kind) -> String {
    format!(
        "{}/notifications/unsubscribe?token={}",
        state.settings.public.api_base_url.trim_end_matches('/'),
        unsubscribe_token(state, user, kind.as_str())
    )
}

/// The user and topic of a genuine token.
pub fn verify_unsubscribe(state: &AppState, token: &str) -> Option<(Uuid, String)> {
    let mut parts = token.splitn(3, ':');
    let user: Uuid = parts.next()?.parse().ok()?;
    let topic = parts.next()?.to_owned();
    let given = parts.next()?;
    let expected = signature(state, user, &topic)?;
    // Constant time: the comparison must not tell an attacker how much of a guess was right.
    let same = given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    same.then_some((user, topic))
}
