//! GraphQL over HTTP: media types, methods, status codes, error codes and limits.

use figment::providers::Serialized;
use serde_json::json;

use crate::helpers::{TestApp, reply};

async fn post_raw(
    app: &TestApp,
    content_type: Option<&str>,
    accept: Option<&str>,
    body: &str,
) -> crate::helpers::Reply {
    let mut req = app.http.post(app.url("/graphql")).body(body.to_owned());
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    reply(req.send().await.expect("request")).await
}

const TYPENAME: &str = r#"{"query":"{ __typename }"}"#;

#[tokio::test]
async fn answers_in_the_media_type_asked_for() {
    let app = TestApp::spawn().await;
    let json = post_raw(
        &app,
        Some("application/json"),
        Some("application/json"),
        TYPENAME,
    )
    .await;
    assert_eq!(json.status, 200);
    assert!(
        json.content_type.starts_with("application/json"),
        "{}",
        json.content_type
    );
    assert_eq!(json.body["data"]["__typename"], "Query");

    let gr = post_raw(
        &app,
        Some("application/json"),
        Some("application/graphql-response+json"),
        TYPENAME,
    )
    .await;
    assert!(
        gr.content_type
            .starts_with("application/graphql-response+json")
    );

    let none = post_raw(&app, Some("application/json"), None, TYPENAME).await;
    assert!(none.content_type.starts_with("application/json"));

    let html_only = post_raw(&app, Some("application/json"), Some("text/html"), TYPENAME).await;
    assert_eq!(html_only.status, 406);
}

#[tokio::test]
async fn only_json_posts_are_executed() {
    let app = TestApp::spawn().await;
    // text/plain and forms are what a cross-site page can POST without a preflight.
    for ct in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
        Some("application/json; charset=latin1"),
    ] {
        let r = post_raw(&app, ct, None, TYPENAME).await;
        assert_eq!(r.status, 415, "{ct:?}");
    }
    let ok = post_raw(
        &app,
        Some("application/json; charset=utf-8"),
        None,
        TYPENAME,
    )
    .await;
    assert_eq!(ok.status, 200);

    let broken = post_raw(&app, Some("application/json"), None, r#"{ "not a JSON"#).await;
    assert_eq!(broken.status, 400);
    let missing = post_raw(
        &app,
        Some("application/json"),
        None,
        r#"{"qeury":"{ __typename }"}"#,
    )
    .await;
    assert_eq!(missing.status, 400);
    let batch = post_raw(
        &app,
        Some("application/json"),
        None,
        &format!("[{TYPENAME}]"),
    )
    .await;
    assert_eq!(batch.status, 400);
    let empty = post_raw(&app, Some("application/json"), None, "").await;
    assert_eq!(empty.status, 400);
}

#[tokio::test]
async fn get_runs_queries_but_never_mutations() {
    let app = TestApp::spawn().await;
    let q = app
        .http
        .get(app.url("/graphql"))
        .query(&[("query", "{ __typename }")])
        .header("accept", "application/json")
        .send()
        .await
        .expect("get");
    let q = reply(q).await;
    assert_eq!(
        (q.status, &q.body["data"]["__typename"]),
        (200, &json!("Query"))
    );

    let m = app
        .http
        .get(app.url("/graphql"))
        .query(&[(
            "query",
            "mutation { logout(input: { refreshToken: \"x\" }) { success } }",
        )])
        .header("accept", "application/graphql-response+json")
        .send()
        .await
        .expect("get");
    assert_eq!(m.status(), 405);
    assert_eq!(m.headers()["allow"], "POST");

    let html = app
        .http
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("get");
    assert_eq!(html.status(), 200);
    assert!(html.text().await.expect("html").contains("graphiql"));
}

#[tokio::test]
async fn request_errors_are_400_only_for_graphql_response_json() {
    let app = TestApp::spawn().await;
    for (query, code) in [
        ("{", "GRAPHQL_PARSE_FAILED"),
        ("{ nope }", "GRAPHQL_VALIDATION_FAILED"),
    ] {
        let body = json!({ "query": query }).to_string();
        let modern = post_raw(
            &app,
            Some("application/json"),
            Some("application/graphql-response+json"),
            &body,
        )
        .await;
        assert_eq!(modern.status, 400, "{query}");
        assert!(
            modern.body.get("data").is_none(),
            "no data entry: {}",
            modern.body
        );
        assert_eq!(modern.code(), code);
        let legacy = post_raw(
            &app,
            Some("application/json"),
            Some("application/json"),
            &body,
        )
        .await;
        assert_eq!(legacy.status, 200, "{query}");
        assert_eq!(legacy.code(), code);
    }
}

#[tokio::test]
async fn argument_coercion_errors_carry_a_code_and_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let literal = app
        .gql(
            Some(&admin.access),
            "{ users(first: 3000000000) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        (literal.code(), literal.field()),
        ("BAD_USER_INPUT", "first"),
        "{}",
        literal.body
    );
    let variable = app
        .gql(
            Some(&admin.access),
            "query($n: Int) { users(first: $n) { totalCount } }",
            json!({ "n": 3000000000_i64 }),
        )
        .await;
    assert_eq!(variable.code(), "BAD_USER_INPUT", "{}", variable.body);
    let wrong_type = app
        .gql(
            None,
            crate::helpers::accounts::LOGIN,
            json!({ "input": { "email": 5, "password": "x" } }),
        )
        .await;
    assert_eq!(wrong_type.code(), "BAD_USER_INPUT", "{}", wrong_type.body);
}

#[tokio::test]
async fn depth_complexity_and_body_limits() {
    let app = TestApp::spawn_with(|f| {
        f.merge(Serialized::default("graphql.max_depth", 3))
            .merge(Serialized::default("graphql.max_complexity", 30))
            .merge(Serialized::default("server.body_limit_bytes", 2048))
    })
    .await;
    let deep = app
        .gql(
            None,
            "{ products(first: 1) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(deep.code(), "GRAPHQL_VALIDATION_FAILED", "{}", deep.body);
    assert!(
        deep.body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("nested too deep")
    );

    let complex = app
        .gql(
            None,
            "{ users(first: 100) { edges { node { id email displayName } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        complex.code(),
        "GRAPHQL_VALIDATION_FAILED",
        "{}",
        complex.body
    );
    assert!(
        complex.body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("complex")
    );

    let padding = " ".repeat(4096);
    let big = post_raw(
        &app,
        Some("application/json"),
        None,
        &format!(r#"{{"query":"{{ __typename {padding} }}"}}"#),
    )
    .await;
    assert_eq!(big.status, 413);
}

#[tokio::test]
async fn cors_allows_configured_origins_only() {
    let app = TestApp::spawn_with(|f| {
        f.merge(Serialized::default(
            "server.cors_origins",
            vec!["https://shop.darkhan.mn"],
        ))
    })
    .await;
    let preflight = |origin: &'static str| {
        app.http
            .request(reqwest::Method::OPTIONS, app.url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "content-type,authorization",
            )
            .send()
    };
    let good = preflight("https://shop.darkhan.mn")
        .await
        .expect("preflight");
    assert_eq!(
        good.headers()["access-control-allow-origin"],
        "https://shop.darkhan.mn"
    );
    let evil = preflight("https://evil.example").await.expect("preflight");
    assert!(evil.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn responses_carry_a_request_id() {
    let app = TestApp::spawn().await;
    let r = app.http.get(app.url("/healthz")).send().await.expect("get");
    assert!(r.headers().get("x-request-id").is_some());
    let r = app
        .http
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .expect("get");
    assert_eq!(r.headers()["x-request-id"], "trace-me-42");
}

/// The GraphQL-over-HTTP audit suite of the `graphql-http` npm package, run by Node against
/// this server: every MUST and SHOULD audit has to pass.
#[tokio::test]
async fn passes_the_graphql_http_audit_suite() {
    let app = TestApp::spawn().await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/audit");
    assert!(
        std::path::Path::new(&format!("{dir}/node_modules/graphql-http")).exists(),
        "run `npm ci --prefix tests/audit` first (the README's test command does)"
    );
    let output = tokio::process::Command::new("node")
        .arg(format!("{dir}/audit.mjs"))
        .arg(app.url("/graphql"))
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "audit failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("0 failed"), "{stdout}");
}

async fn cache_header(
    app: &TestApp,
    token: Option<&str>,
    query: &str,
) -> (String, serde_json::Value) {
    let mut req = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({ "query": query }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("post");
    let source = res
        .headers()
        .get("x-cache")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (source, res.json().await.expect("json"))
}

#[tokio::test]
async fn anonymous_queries_are_cached_until_a_mutation() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let q = "{ exchangeRates { pair rate } }";
    assert_eq!(cache_header(&app, None, q).await.0, "miss");
    let (source, body) = cache_header(&app, None, q).await;
    assert_eq!(
        (source.as_str(), &body["data"]["exchangeRates"]),
        ("hit", &json!([]))
    );
    // Signed-in callers are never served from, or stored in, the shared cache.
    assert_eq!(cache_header(&app, Some(&admin.access), q).await.0, "bypass");

    app.set_rate(&admin, "USD", "MNT", "3450").await;
    let (source, body) = cache_header(&app, None, q).await;
    assert_eq!(source, "miss", "a mutation empties the cache");
    assert_eq!(body["data"]["exchangeRates"][0]["rate"], "3450");

    // Errors are not kept.
    let missing = "{ shop(slug: \"nope\") { id } }";
    assert_eq!(cache_header(&app, None, missing).await.0, "bypass");
    assert_eq!(cache_header(&app, None, missing).await.0, "bypass");
}

#[tokio::test]
async fn the_response_cache_can_be_turned_off() {
    let app =
        TestApp::spawn_with(|f| f.merge(Serialized::default("graphql.response_cache_ttl_ms", 0)))
            .await;
    let q = "{ exchangeRates { pair } }";
    assert_eq!(cache_header(&app, None, q).await.0, "bypass");
    assert_eq!(cache_header(&app, None, q).await.0, "bypass");
}

#[tokio::test]
async fn private_mutations_keep_the_cache_and_public_ones_empty_it_on_every_server() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let q = "{ exchangeRates { pair rate } }";
    assert_eq!(cache_header(&app, None, q).await.0, "miss");
    // A guest's cart, a sign-in and a failed sign-in change nothing anyone else reads.
    app.register("private@example.mn", "BUYER").await;
    app.login("private@example.mn", "wrong-password-here")
        .await
        .ok();
    assert_eq!(cache_header(&app, None, q).await.0, "hit");

    // On PostgreSQL servers share a database and hear of each other's changes.
    let on_postgres = std::env::var(crate::helpers::PG_ENV).is_ok_and(|u| !u.is_empty());
    let other = if on_postgres {
        Some(app.sibling().await)
    } else {
        None
    };
    let reader = other.as_ref().unwrap_or(&app);
    cache_header(reader, None, q).await;
    assert_eq!(cache_header(reader, None, q).await.0, "hit");
    app.set_rate(&admin, "USD", "MNT", "3450").await;
    // Typically milliseconds; the bound is generous so a busy CI machine does not fail it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let (source, body) = cache_header(reader, None, q).await;
        if body["data"]["exchangeRates"][0]["rate"] == "3450" {
            assert_ne!(source, "hit");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the change did not reach the other server"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn anonymous_get_queries_are_cdn_ready_and_everything_else_is_private() {
    let app = TestApp::spawn().await;
    let user = app.register("cdn@example.mn", "BUYER").await;
    let get = |token: Option<String>, etag: Option<String>, query: &'static str| {
        let mut req = app
            .http
            .get(app.url("/graphql"))
            .query(&[("query", query)])
            .header("accept", "application/graphql-response+json");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(e) = etag {
            req = req.header("if-none-match", e);
        }
        req.send()
    };
    let header = |res: &reqwest::Response, name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let q = "{ exchangeRates { pair } }";
    let first = get(None, None, q).await.expect("get");
    assert_eq!(first.status(), 200);
    let control = header(&first, "cache-control");
    assert!(control.starts_with("public, max-age="), "{control}");
    assert!(control.contains("s-maxage=") && control.contains("stale-while-revalidate="));
    assert!(header(&first, "vary").contains("Accept-Language"));
    let etag = header(&first, "etag");
    assert!(etag.starts_with("W/\""), "{etag}");

    let again = get(None, Some(etag.clone()), q).await.expect("get");
    assert_eq!(again.status(), 304);
    assert_eq!(header(&again, "etag"), etag);
    assert!(again.bytes().await.expect("body").is_empty());

    let signed_in = get(Some(user.access.clone()), Some(etag), q)
        .await
        .expect("get");
    assert_eq!(signed_in.status(), 200);
    assert_eq!(header(&signed_in, "cache-control"), "private, no-store");

    let failing = get(None, None, "{ shop(slug: \"nope\") { id } }")
        .await
        .expect("get");
    assert_eq!(header(&failing, "cache-control"), "private, no-store");
    let post = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({ "query": q }))
        .send()
        .await
        .expect("post");
    assert_eq!(header(&post, "cache-control"), "private, no-store");
}

fn sha256_hex(text: &str) -> String {
    darkhan::tokens::hash(text)
}

#[tokio::test]
async fn automatic_persisted_queries_by_post_and_get() {
    let app = TestApp::spawn().await;
    let q = "{ exchangeRates { pair } }";
    let hash = sha256_hex(q);
    let ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let post = |body: serde_json::Value| {
        let app = &app;
        async move {
            reply(
                app.http
                    .post(app.url("/graphql"))
                    .header("accept", "application/graphql-response+json")
                    .json(&body)
                    .send()
                    .await
                    .expect("post"),
            )
            .await
        }
    };
    // The hash alone, first time: the client is told to send the document.
    let unknown = post(json!({ "extensions": ext })).await;
    assert_eq!(
        unknown.code(),
        "PERSISTED_QUERY_NOT_FOUND",
        "{}",
        unknown.body
    );
    assert_eq!(
        unknown.body["errors"][0]["message"],
        "PersistedQueryNotFound"
    );
    // A document that does not match its hash is refused.
    let wrong = post(json!({ "query": "{ __typename }", "extensions": ext })).await;
    assert_eq!(wrong.code(), "BAD_USER_INPUT", "{}", wrong.body);
    // Hash and document register it; from then on the hash alone runs, by POST and GET.
    let registered = post(json!({ "query": q, "extensions": ext })).await;
    registered.expect_data();
    let by_hash = post(json!({ "extensions": ext })).await;
    assert_eq!(by_hash.expect_data()["exchangeRates"], json!([]));
    let get = app
        .http
        .get(app.url("/graphql"))
        .query(&[("extensions", ext.to_string())])
        .header("accept", "application/graphql-response+json")
        .send()
        .await
        .expect("get");
    let get = reply(get).await;
    assert_eq!(get.expect_data()["exchangeRates"], json!([]));
    // Without a hash, a missing query is still a bad request.
    let missing = post(json!({ "variables": {} })).await;
    assert_eq!((missing.status, missing.code()), (400, "BAD_REQUEST"));
}

#[tokio::test]
async fn in_allow_list_mode_only_registered_documents_run() {
    let q = "{ exchangeRates { pair } }";
    let dir = tempfile::tempdir().expect("dir");
    let manifest = dir.path().join("persisted.json");
    std::fs::write(
        &manifest,
        json!({ "format": "apollo-persisted-query-manifest", "version": 1, "operations": [
            { "id": sha256_hex(q), "name": "Rates", "type": "query", "body": q }
        ] })
        .to_string(),
    )
    .expect("manifest");
    let path = manifest.display().to_string();
    let app = TestApp::spawn_with(|f| {
        f.merge(Serialized::default("graphql.persisted_queries_only", true))
            .merge(Serialized::default(
                "graphql.persisted_queries_manifest",
                path,
            ))
    })
    .await;
    let empty = app.gql(None, "", json!(null)).await;
    assert_eq!(empty.code(), "PERSISTED_QUERY_REQUIRED", "{}", empty.body);
    let arbitrary = app.gql(None, "{ __typename }", json!({})).await;
    assert_eq!(
        arbitrary.code(),
        "PERSISTED_QUERY_REQUIRED",
        "{}",
        arbitrary.body
    );
    let ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(q) } });
    let by_hash = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({ "extensions": ext }))
        .send()
        .await
        .expect("post");
    let by_hash = reply(by_hash).await;
    assert_eq!(by_hash.expect_data()["exchangeRates"], json!([]));
    // A client cannot register a new document.
    let other = "{ exchangeRates { rate } }";
    let ext = json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(other) } });
    let refused = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({ "query": other, "extensions": ext }))
        .send()
        .await
        .expect("post");
    assert_eq!(reply(refused).await.code(), "PERSISTED_QUERY_REQUIRED");
}

#[tokio::test]
async fn a_stock_change_forgets_only_the_answers_that_showed_that_product() {
    // Long enough that nothing here expires by age.
    let app = TestApp::spawn_with(|f| {
        f.merge(figment::providers::Serialized::default(
            "graphql.response_cache_ttl_ms",
            60_000,
        ))
    })
    .await;
    let admin = app.admin().await;
    app.set_rate(&admin, "EUR", "MNT", "3700").await;
    let (_, rug) = crate::helpers::orders::stocked_shop(&app, "tagged", "37000", 5).await;
    crate::helpers::orders::stocked_shop(&app, "untouched", "37000", 5).await;
    let rug_q = "{ product(shopSlug: \"tagged\", slug: \"item\") { variants { stock } } }";
    let other_q = "{ product(shopSlug: \"untouched\", slug: \"item\") { variants { stock } } }";
    let in_stock = "{ products(first: 10, filter: { inStock: true }) { totalCount } }";
    let rates = "{ exchangeRates { pair } }";
    for q in [rug_q, other_q, in_stock, rates] {
        cache_header(&app, None, q).await;
        assert_eq!(cache_header(&app, None, q).await.0, "hit", "{q}");
    }
    crate::helpers::orders::ordered_by_transfer(&app, "tagged@example.de", &rug, 2).await;
    // The rug's page shows its new stock at once; what did not show it stays cached.
    let (source, body) = cache_header(&app, None, rug_q).await;
    assert_ne!(source, "hit");
    assert_eq!(body["data"]["product"]["variants"][0]["stock"], 3);
    assert_ne!(
        cache_header(&app, None, in_stock).await.0,
        "hit",
        "stock chose that list"
    );
    assert_eq!(cache_header(&app, None, other_q).await.0, "hit");
    assert_eq!(cache_header(&app, None, rates).await.0, "hit");
}

#[tokio::test]
async fn a_guest_cart_is_never_served_from_the_cache() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.set_rate(&admin, "EUR", "MNT", "3700").await;
    let (_, variant) = crate::helpers::orders::stocked_shop(&app, "guest", "37000", 5).await;
    let add = "mutation($v: ID!, $t: String) { addToCart(input: { variantId: $v, quantity: 1, cartToken: $t }) { cartToken } }";
    let r = app.gql(None, add, json!({ "v": variant, "t": null })).await;
    let token = r.expect_data()["addToCart"]["cartToken"].clone();
    let cart = format!("{{ cart(cartToken: {token}) {{ shops {{ lines {{ quantity }} }} }} }}");
    let (_, first) = cache_header(&app, None, &cart).await;
    assert_eq!(first["data"]["cart"]["shops"][0]["lines"][0]["quantity"], 1);
    app.gql(None, add, json!({ "v": variant, "t": token }))
        .await
        .expect_data();
    let (source, second) = cache_header(&app, None, &cart).await;
    assert_ne!(source, "hit");
    assert_eq!(
        second["data"]["cart"]["shops"][0]["lines"][0]["quantity"],
        2
    );
    // Nor by a CDN: read by GET, it is still one person's.
    let res = app
        .http
        .get(app.url("/graphql"))
        .query(&[("query", cart.as_str())])
        .send()
        .await
        .expect("get");
    assert_eq!(
        res.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("private, no-store")
    );
}
