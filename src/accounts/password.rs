//! Password rules and argon2id hashing, always off the async runtime.

use std::sync::LazyLock;

use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};

use crate::error::{AppError, AppResult};

pub const MIN_LEN: usize = 10;
pub const MAX_LEN: usize = 128;

/// OWASP's minimum for argon2id: 19 MiB, two passes, one lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checked against when the email is unknown, so a miss costs as much as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    hasher()
        .hash_password(b"darkhan-timing-equaliser")
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// Length rules, counted in characters so Cyrillic passwords are not penalised.
pub fn validate(field: &'static str, password: &str) -> AppResult<()> {
    let chars = password.chars().count();
    if chars < MIN_LEN {
        return Err(AppError::invalid(
            field,
            format!("password must be at least {MIN_LEN} characters"),
        ));
    }
    if chars > MAX_LEN {
        return Err(AppError::invalid(
            field,
            format!("password must be at most {MAX_LEN} characters"),
        ));
    }
    Ok(())
}

/// Hashes a new password into a PHC string.
pub async fn hash(password: String) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        hasher()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing password: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
}

/// Verifies a password against a stored hash, or against a dummy hash when there is none.
pub async fn verify(password: String, stored: Option<String>) -> AppResult<bool> {
    let known = stored.is_some();
    tokio::task::spawn_blocking(move || {
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let parsed = PasswordHash::new(&stored)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("stored hash unreadable: {e}")))?;
        let ok = hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(ok && known)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_argon2id_at_owasp_strength() {
        let hash = hash("correct horse battery".into()).await.expect("hash");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            verify("correct horse battery".into(), Some(hash.clone()))
                .await
                .expect("v")
        );
        assert!(
            !verify("wrong horse battery".into(), Some(hash))
                .await
                .expect("v")
        );
        assert!(
            !verify("darkhan-timing-equaliser".into(), None)
                .await
                .expect("v")
        );
    }

    #[test]
    fn length_rules_count_characters() {
        assert!(validate("password", "short").is_err());
        assert!(validate("password", "дархан1234").is_ok());
        assert!(validate("password", &"x".repeat(129)).is_err());
        assert!(validate("password", &"x".repeat(128)).is_ok());
    }
}
