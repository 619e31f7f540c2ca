//! Account fixtures: registering, signing in, and an admin made the way the CLI makes one.

use serde_json::{Value, json};

use super::{PASSWORD, Reply, Session, TestApp};

impl TestApp {
    /// Registers an account and returns its session.
    pub async fn register(&self, email: &str, role: &str) -> Session {
        let r = self
            .gql(
                None,
                REGISTER,
                json!({ "input": {
                    "email": email, "password": PASSWORD, "displayName": "Bat-Erdene",
                    "role": role, "country": "MN", "preferredLanguage": "mn",
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
