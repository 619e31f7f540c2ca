//! Account fixtures: registering, signing in, and an admin made the way the CLI makes one.

use serde_json::{Value, json};

use super::{PASSWORD, Reply, Session, TestApp};

impl TestApp {
    /// Registers an account and returns its session. Artisans confirm their email address
    /// through the link in the verification email, as they must before publishing.
    pub async fn register(&self, email: &str, role: &str) -> Session {
        let session = self.register_unverified(email, role).await;
        if role == "ARTISAN" {
            self.verify_by_mail(email).await;
        }
        session
    }

    /// Follows the newest verification link sent to `email`.
    pub async fn verify_by_mail(&self, email: &str) {
        let mails = super::mail::wait_for(&self.outbox_dir(), 1, |m| {
            m.to.iter().any(|t| t == email) && m.link("verify-email").is_some()
        })
        .await;
        let mail = mails.last().expect("a verification email");
        let r = self
            .gql(
                None,
                "mutation($t: String!) { verifyEmail(input: { token: $t }) { user { emailVerified } } }",
                json!({ "t": mail.token("verify-email") }),
            )
            .await;
        assert_eq!(
            r.expect_data()["verifyEmail"]["user"]["emailVerified"],
            true
        );
    }

    /// Registers an account (reading Mongolian) without confirming its email address.
    pub async fn register_unverified(&self, email: &str, role: &str) -> Session {
        self.register_reading(email, role, "mn").await
    }

    /// Registers an unverified account whose preferred language is `language`.
    pub async fn register_reading(&self, email: &str, role: &str, language: &str) -> Session {
        let r = self
            .gql(
                None,
                REGISTER,
                json!({ "input": {
                    "email": email, "password": PASSWORD, "displayName": "Bat-Erdene",
                    "role": role, "country": "MN", "preferredLanguage": language,
                    "preferredCurrency": "MNT"
                }}),
            )
            .await;
        session(&r.expect_data()["register"])
    }

    /// Creates an admin the way the CLI does, then signs in.
    pub async fn admin(&self) -> Session {
        darkhan::accounts::service::create_admin(
            &self.state.db,
            "admin@darkhan.mn",
            PASSWORD,
            "Admin",
        )
        .await
        .expect("admin");
        self.login("admin@darkhan.mn", PASSWORD)
            .await
            .expect("admin login")
    }

    pub async fn login(&self, email: &str, password: &str) -> Result<Session, Reply> {
        let r = self
            .gql(
                None,
                LOGIN,
                json!({ "input": { "email": email, "password": password } }),
            )
            .await;
        if r.body.get("errors").is_some() {
            Err(r)
        } else {
            Ok(session(&r.body["data"]["login"]))
        }
    }
}

pub fn session(payload: &Value) -> Session {
    Session {
        id: payload["user"]["id"].as_str().expect("id").to_owned(),
        access: payload["accessToken"].as_str().expect("access").to_owned(),
        refresh: payload["refreshToken"]
            .as_str()
            .expect("refresh")
            .to_owned(),
    }
}

pub const SESSION_FIELDS: &str =
    "accessToken accessTokenExpiresIn refreshToken user { id email role displayName }";

pub const REGISTER: &str = "mutation($input: RegisterInput!) { register(input: $input) { \
    accessToken accessTokenExpiresIn refreshToken user { id email role displayName } } }";

pub const LOGIN: &str = "mutation($input: LoginInput!) { login(input: $input) { \
    accessToken accessTokenExpiresIn refreshToken user { id email role displayName } } }";
