//! Registration, sign-in, sessions, profile and roles, over HTTP.

use std::time::Instant;

use serde_json::json;

use crate::helpers::{
    PASSWORD, TestApp,
    accounts::{LOGIN, REGISTER, SESSION_FIELDS},
};

fn register_input(email: &str, password: &str) -> serde_json::Value {
    json!({ "input": {
        "email": email, "password": password, "displayName": "Saraa",
        "role": "ARTISAN", "country": "mn", "preferredLanguage": "mn-Cyrl",
        "preferredCurrency": "mnt"
    }})
}

#[tokio::test]
async fn register_login_and_me() {
    let app = TestApp::spawn().await;
    let r = app
        .gql(None, REGISTER, register_input("Saraa@Example.MN", PASSWORD))
        .await;
    let user = &r.expect_data()["register"]["user"];
    assert_eq!(user["email"], "saraa@example.mn");
    assert_eq!(user["role"], "ARTISAN");
    assert_eq!(r.expect_data()["register"]["accessTokenExpiresIn"], 900);

    let session = app
        .login("SARAA@example.mn", PASSWORD)
        .await
        .expect("login");
    let me = app
        .gql(
            Some(&session.access),
            "{ me { id email displayName role country preferredLanguage preferredCurrency emailVerified createdAt } }",
            json!({}),
        )
        .await;
    let me = &me.expect_data()["me"];
    assert_eq!(me["id"], session.id);
    assert_eq!(me["country"], "MN");
    assert_eq!(me["preferredLanguage"], "mn-Cyrl");
    assert_eq!(me["preferredCurrency"], "MNT");
    assert_eq!(me["emailVerified"], false);

    let anonymous = app.gql(None, "{ me { id } }", json!({})).await;
    assert_eq!(anonymous.code(), "UNAUTHENTICATED");
    assert_eq!(anonymous.status, 200, "field errors are not request errors");
}

#[tokio::test]
async fn duplicate_email_in_another_case_conflicts() {
    let app = TestApp::spawn().await;
    app.register("tuul@example.mn", "BUYER").await;
    let r = app
        .gql(None, REGISTER, register_input("TUUL@Example.mn", PASSWORD))
        .await;
    assert_eq!(r.code(), "CONFLICT");
}

#[tokio::test]
async fn registration_input_is_validated_per_field() {
    let app = TestApp::spawn().await;
    let cases = [
        ("email", json!("not-an-email")),
        ("password", json!("short")),
        ("password", json!("x".repeat(129))),
        ("country", json!("XX")),
        ("preferredLanguage", json!("english!")),
        ("preferredCurrency", json!("ABC")),
        ("displayName", json!("   ")),
    ];
    for (field, value) in cases {
        let mut vars = register_input("nomin@example.mn", PASSWORD);
        vars["input"][field] = value;
        let r = app.gql(None, REGISTER, vars).await;
        assert_eq!(r.code(), "BAD_USER_INPUT", "{field}: {}", r.body);
        assert_eq!(r.field(), field, "{}", r.body);
    }
    let mut vars = register_input("nomin@example.mn", PASSWORD);
    vars["input"]["role"] = json!("ADMIN");
    let r = app.gql(None, REGISTER, vars).await;
    assert_eq!((r.code(), r.field()), ("BAD_USER_INPUT", "role"));
    // Nothing half-made: the address is still free.
    app.register("nomin@example.mn", "BUYER").await;
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let app = TestApp::spawn().await;
    app.register("bold@example.mn", "BUYER").await;
    // The quickest of three tries each, so a cold connection or a busy machine does not
    // decide the comparison.
    let mut wrong_time = std::time::Duration::MAX;
    let mut unknown_time = std::time::Duration::MAX;
    let (mut wrong, mut unknown) = (None, None);
    for _ in 0..3 {
        let started = Instant::now();
        wrong = app.login("bold@example.mn", "not-the-password").await.err();
        wrong_time = wrong_time.min(started.elapsed());
        let started = Instant::now();
        unknown = app
            .login("nobody@example.mn", "not-the-password")
            .await
            .err();
        unknown_time = unknown_time.min(started.elapsed());
    }
    let (wrong, unknown) = (wrong.expect("fails"), unknown.expect("fails"));
    assert_eq!(wrong.code(), "UNAUTHENTICATED");
    assert_eq!(
        wrong.body["errors"][0]["message"],
        unknown.body["errors"][0]["message"]
    );
    assert_eq!(wrong.code(), unknown.code());
    // Both paths run one argon2 verification; an unknown email must not answer instantly.
    assert!(
        unknown_time * 3 > wrong_time,
        "unknown {unknown_time:?} vs wrong {wrong_time:?}"
    );
}

#[tokio::test]
async fn failed_logins_are_throttled_per_email() {
    let app = TestApp::spawn().await;
    app.register("ganaa@example.mn", "BUYER").await;
    for _ in 0..5 {
        let r = app
            .login("ganaa@example.mn", "wrong-password")
            .await
            .expect_err("fails");
        assert_eq!(r.code(), "UNAUTHENTICATED");
    }
    let r = app
        .login("ganaa@example.mn", PASSWORD)
        .await
        .expect_err("throttled");
    assert_eq!(r.code(), "TOO_MANY_REQUESTS");
    assert!(
        r.body["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .unwrap_or(0)
            > 0
    );
    // Another account from the same client is not yet affected.
    app.register("other@example.mn", "BUYER").await;
    app.login("other@example.mn", PASSWORD)
        .await
        .expect("other account");
}

#[tokio::test]
async fn failed_logins_are_throttled_per_client() {
    let app = TestApp::spawn_with(|f| {
        f.merge(figment::providers::Serialized::default(
            "auth.login_max_failures_per_client",
            3,
        ))
    })
    .await;
    app.register("a@example.mn", "BUYER").await;
    for i in 0..3 {
        let r = app
            .login(&format!("guess{i}@example.mn"), "wrong-password")
            .await;
        assert_eq!(r.expect_err("fails").code(), "UNAUTHENTICATED");
    }
    let r = app
        .login("a@example.mn", PASSWORD)
        .await
        .expect_err("throttled");
    assert_eq!(r.code(), "TOO_MANY_REQUESTS");
}

const REFRESH: &str = "mutation($t: String!) { refreshSession(input: { refreshToken: $t }) { accessToken refreshToken } }";

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = TestApp::spawn().await;
    let first = app.register("oyun@example.mn", "BUYER").await;

    let r = app.gql(None, REFRESH, json!({ "t": first.refresh })).await;
    let second_refresh = r.expect_data()["refreshSession"]["refreshToken"]
        .as_str()
        .expect("t")
        .to_owned();
    let second_access = r.expect_data()["refreshSession"]["accessToken"]
        .as_str()
        .expect("t")
        .to_owned();
    assert_ne!(second_refresh, first.refresh);
    let me = app
        .gql(Some(&second_access), "{ me { email } }", json!({}))
        .await;
    assert_eq!(me.expect_data()["me"]["email"], "oyun@example.mn");

    // The first token was spent: presenting it again is theft, and ends the family.
    let reuse = app.gql(None, REFRESH, json!({ "t": first.refresh })).await;
    assert_eq!(reuse.code(), "UNAUTHENTICATED");
    let after = app.gql(None, REFRESH, json!({ "t": second_refresh })).await;
    assert_eq!(after.code(), "UNAUTHENTICATED", "family revoked");

    // Another login (another family) is untouched.
    let other = app.login("oyun@example.mn", PASSWORD).await.expect("login");
    let r = app.gql(None, REFRESH, json!({ "t": other.refresh })).await;
    r.expect_data();

    let junk = app.gql(None, REFRESH, json!({ "t": "made-up" })).await;
    assert_eq!(junk.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn concurrent_use_of_one_refresh_token_yields_one_session() {
    let app = TestApp::spawn().await;
    let s = app.register("race@example.mn", "BUYER").await;
    let (a, b) = tokio::join!(
        app.gql(None, REFRESH, json!({ "t": s.refresh })),
        app.gql(None, REFRESH, json!({ "t": s.refresh })),
    );
    let oks = [&a, &b]
        .iter()
        .filter(|r| r.body.get("errors").is_none())
        .count();
    assert!(oks <= 1, "{} / {}", a.body, b.body);
}

#[tokio::test]
async fn logout_revokes_the_family() {
    let app = TestApp::spawn().await;
    let s = app.register("logout@example.mn", "BUYER").await;
    let r = app
        .gql(
            None,
            "mutation($t: String!) { logout(input: { refreshToken: $t }) { success } }",
            json!({ "t": s.refresh }),
        )
        .await;
    assert_eq!(r.expect_data()["logout"]["success"], true);
    let again = app.gql(None, REFRESH, json!({ "t": s.refresh })).await;
    assert_eq!(again.code(), "UNAUTHENTICATED");
}

#[tokio::test]
async fn update_profile_and_change_password() {
    let app = TestApp::spawn().await;
    let s = app.register("dulmaa@example.mn", "BUYER").await;
    let update = "mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { user { displayName country preferredLanguage preferredCurrency } } }";
    let r = app
        .gql(
            Some(&s.access),
            update,
            json!({ "input": { "displayName": "Дулмаа", "country": "de", "preferredCurrency": "eur" } }),
        )
        .await;
    let user = &r.expect_data()["updateProfile"]["user"];
    assert_eq!(user["displayName"], "Дулмаа");
    assert_eq!(user["country"], "DE");
    assert_eq!(user["preferredCurrency"], "EUR");
    assert_eq!(user["preferredLanguage"], "mn");

    let bad = app
        .gql(
            Some(&s.access),
            update,
            json!({ "input": { "country": "ZZ" } }),
        )
        .await;
    assert_eq!((bad.code(), bad.field()), ("BAD_USER_INPUT", "country"));
    let anon = app.gql(None, update, json!({ "input": {} })).await;
    assert_eq!(anon.code(), "UNAUTHENTICATED");

    let change = format!(
        "mutation($input: ChangePasswordInput!) {{ changePassword(input: $input) {{ {SESSION_FIELDS} }} }}"
    );
    let wrong = app
        .gql(
            Some(&s.access),
            &change,
            json!({ "input": { "currentPassword": "not-it-at-all", "newPassword": "a-new-long-password" } }),
        )
        .await;
    assert_eq!(
        (wrong.code(), wrong.field()),
        ("BAD_USER_INPUT", "currentPassword")
    );
    let weak = app
        .gql(
            Some(&s.access),
            &change,
            json!({ "input": { "currentPassword": PASSWORD, "newPassword": "short" } }),
        )
        .await;
    assert_eq!(
        (weak.code(), weak.field()),
        ("BAD_USER_INPUT", "newPassword")
    );
    let ok = app
        .gql(
            Some(&s.access),
            &change,
            json!({ "input": { "currentPassword": PASSWORD, "newPassword": "a-new-long-password" } }),
        )
        .await;
    ok.expect_data();
    // Old sessions are signed out, the old password no longer works, the new one does.
    let old = app.gql(None, REFRESH, json!({ "t": s.refresh })).await;
    assert_eq!(old.code(), "UNAUTHENTICATED");
    assert!(app.login("dulmaa@example.mn", PASSWORD).await.is_err());
    app.login("dulmaa@example.mn", "a-new-long-password")
        .await
        .expect("new password");
}

const USERS: &str = "query($first: Int, $after: String, $last: Int, $before: String) { users(first: $first, after: $after, last: $last, before: $before) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { email } } } }";

#[tokio::test]
async fn only_admins_list_users_page_by_page() {
    let app = TestApp::spawn().await;
    let buyer = app.register("u1@example.mn", "BUYER").await;
    let artisan = app.register("u2@example.mn", "ARTISAN").await;
    app.register("u3@example.mn", "BUYER").await;
    let admin = app.admin().await;

    for token in [&buyer.access, &artisan.access] {
        let r = app.gql(Some(token), USERS, json!({})).await;
        assert_eq!(r.code(), "FORBIDDEN");
    }
    assert_eq!(
        app.gql(None, USERS, json!({})).await.code(),
        "UNAUTHENTICATED"
    );

    let page1 = app
        .gql(Some(&admin.access), USERS, json!({ "first": 2 }))
        .await;
    let users = &page1.expect_data()["users"];
    assert_eq!(users["totalCount"], 4);
    assert_eq!(users["edges"][0]["node"]["email"], "u1@example.mn");
    assert_eq!(users["edges"][1]["node"]["email"], "u2@example.mn");
    assert_eq!(users["pageInfo"]["hasNextPage"], true);
    assert_eq!(users["pageInfo"]["hasPreviousPage"], false);
    let end = users["pageInfo"]["endCursor"].clone();

    let page2 = app
        .gql(
            Some(&admin.access),
            USERS,
            json!({ "first": 2, "after": end }),
        )
        .await;
    let users = &page2.expect_data()["users"];
    assert_eq!(users["edges"][0]["node"]["email"], "u3@example.mn");
    assert_eq!(users["edges"][1]["node"]["email"], "admin@darkhan.mn");
    assert_eq!(users["pageInfo"]["hasNextPage"], false);
    let start = users["pageInfo"]["startCursor"].clone();

    let back = app
        .gql(
            Some(&admin.access),
            USERS,
            json!({ "last": 1, "before": start }),
        )
        .await;
    let users = &back.expect_data()["users"];
    assert_eq!(users["edges"][0]["node"]["email"], "u2@example.mn");
    assert_eq!(users["pageInfo"]["hasPreviousPage"], true);

    let too_many = app
        .gql(Some(&admin.access), USERS, json!({ "first": 101 }))
        .await;
    assert_eq!(
        (too_many.code(), too_many.field()),
        ("BAD_USER_INPUT", "first")
    );
    let bad_cursor = app
        .gql(Some(&admin.access), USERS, json!({ "after": "nonsense" }))
        .await;
    assert_eq!(
        (bad_cursor.code(), bad_cursor.field()),
        ("BAD_USER_INPUT", "after")
    );
}

#[tokio::test]
async fn create_admin_makes_an_admin() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let r = app
        .gql(Some(&admin.access), "{ me { role } }", json!({}))
        .await;
    assert_eq!(r.expect_data()["me"]["role"], "ADMIN");
    let r = app
        .gql(
            None,
            LOGIN,
            json!({ "input": { "email": "ADMIN@darkhan.mn", "password": PASSWORD } }),
        )
        .await;
    r.expect_data();
}

mod tokens {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use serde_json::json;

    use crate::helpers::TestApp;

    const DEV_SECRET: &[u8] = b"darkhan-development-secret-do-not-use-in-production";

    async fn me_with(app: &TestApp, token: &str) -> (String, String) {
        let r = app.gql(Some(token), "{ me { id } }", json!({})).await;
        (
            r.code().to_owned(),
            r.body["errors"][0]["message"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
        )
    }

    fn sign(alg: Algorithm, secret: &[u8], claims: serde_json::Value) -> String {
        let key = EncodingKey::from_secret(secret).expect("key");
        jsonwebtoken::encode(&Header::new(alg), &claims, &key).expect("sign")
    }

    #[tokio::test]
    async fn bad_access_tokens_are_refused() {
        let app = TestApp::spawn().await;
        let s = app.register("jwt@example.mn", "BUYER").await;
        let now = chrono::Utc::now().timestamp();
        let claims = |exp: i64| json!({ "sub": s.id, "role": "ADMIN", "iat": now - 10, "exp": exp, "jti": uuid::Uuid::now_v7() });

        let expired = sign(Algorithm::HS256, DEV_SECRET, claims(now - 5));
        let (code, message) = me_with(&app, &expired).await;
        assert_eq!(code, "UNAUTHENTICATED");
        assert!(message.contains("expired"), "{message}");

        let wrong_key = sign(
            Algorithm::HS256,
            b"another-secret-another-secret-xx",
            claims(now + 600),
        );
        assert_eq!(me_with(&app, &wrong_key).await.0, "UNAUTHENTICATED");

        // Same secret, another algorithm: pinned to HS256, so refused.
        let hs512 = sign(Algorithm::HS512, DEV_SECRET, claims(now + 600));
        assert_eq!(me_with(&app, &hs512).await.0, "UNAUTHENTICATED");

        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims(now + 600).to_string());
        let none = format!("{header}.{payload}.");
        assert_eq!(me_with(&app, &none).await.0, "UNAUTHENTICATED");

        // Tampering: promote ourselves to ADMIN inside a validly shaped token.
        let mut parts: Vec<String> = s.access.split('.').map(str::to_owned).collect();
        parts[1] = URL_SAFE_NO_PAD.encode(claims(now + 600).to_string());
        assert_eq!(me_with(&app, &parts.join(".")).await.0, "UNAUTHENTICATED");

        assert_eq!(me_with(&app, "garbage").await.0, "UNAUTHENTICATED");
        assert_eq!(me_with(&app, &s.access).await.0, "");
    }
}
