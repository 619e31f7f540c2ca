//! Health, readiness and metrics endpoints.

use crate::helpers::TestApp;

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = TestApp::spawn().await;
    let health = app.http.get(app.url("/healthz")).send().await.expect("get");
    assert_eq!(health.status(), 200);
    let ready = app.http.get(app.url("/readyz")).send().await.expect("get");
    assert_eq!(ready.status(), 200);

    app.gql(None, "{ me { id } }", serde_json::json!({})).await;
    let metrics = app.http.get(app.url("/metrics")).send().await.expect("get");
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.expect("text");
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains("http_request_duration_seconds"), "{text}");
    assert!(
        text.contains("graphql_errors_total{code=\"UNAUTHENTICATED\"}"),
        "{text}"
    );
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.state.db.clone().close().await.expect("close pool");
    let ready = app.http.get(app.url("/readyz")).send().await.expect("get");
    assert_eq!(ready.status(), 503);
    let health = app.http.get(app.url("/healthz")).send().await.expect("get");
    assert_eq!(health.status(), 200, "alive even when not ready");
}
