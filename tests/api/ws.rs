//! GraphQL over WebSocket (`graphql-transport-ws`): the happy path, isolation between users,
//! and every close code the protocol defines.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

use crate::helpers::TestApp;

pub type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

pub async fn connect(app: &TestApp, protocol: Option<&str>) -> Ws {
    let mut req = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .expect("request");
    if let Some(p) = protocol {
        req.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_str(p).expect("header"),
        );
    }
    connect_async(req).await.expect("connect").0
}

pub async fn send(ws: &mut Ws, message: Value) {
    ws.send(Message::Text(message.to_string().into()))
        .await
        .expect("send");
}

/// The next text message, as JSON.
pub async fn next(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a message in time")
            .expect("open")
            .expect("frame");
        match msg {
            Message::Text(t) => return serde_json::from_str(t.as_str()).expect("json"),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected text, got {other:?}"),
        }
    }
}

/// Waits for the server to close, returning the close code and reason.
pub async fn closed(ws: &mut Ws) -> (u16, String) {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("closed in time");
        match msg {
            Some(Ok(Message::Close(Some(frame)))) => {
                return (u16::from(frame.code), frame.reason.as_str().to_owned());
            }
            Some(Ok(Message::Close(None))) | None => return (1005, String::new()),
            Some(Ok(_)) => continue,
            Some(Err(e)) => panic!("connection failed instead of closing: {e}"),
        }
    }
}

pub async fn init(ws: &mut Ws, token: Option<&str>) {
    let payload = token.map_or(
        json!({}),
        |t| json!({ "authorization": format!("Bearer {t}") }),
    );
    send(ws, json!({ "type": "connection_init", "payload": payload })).await;
    assert_eq!(next(ws).await["type"], "connection_ack");
}

const PROFILE: &str = "subscription { profileUpdated { id displayName } }";
const UPDATE: &str =
    "mutation($n: String!) { updateProfile(input: { displayName: $n }) { user { id } } }";

#[tokio::test]
async fn profile_updates_reach_only_their_owner() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice@example.mn", "BUYER").await;
    let bob = app.register("bob@example.mn", "BUYER").await;

    let mut ws_alice = connect(&app, Some("graphql-transport-ws")).await;
    init(&mut ws_alice, Some(&alice.access)).await;
    send(
        &mut ws_alice,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": PROFILE } }),
    )
    .await;
    let mut ws_bob = connect(&app, Some("graphql-transport-ws")).await;
    init(&mut ws_bob, Some(&bob.access)).await;
    send(
        &mut ws_bob,
        json!({ "id": "b", "type": "subscribe", "payload": { "query": PROFILE } }),
    )
    .await;
    // Let both subscriptions start before the change is made.
    send(&mut ws_alice, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut ws_alice).await["type"], "pong");
    send(&mut ws_bob, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut ws_bob).await["type"], "pong");

    app.gql(Some(&alice.access), UPDATE, json!({ "n": "Алиса" }))
        .await
        .expect_data();
    let msg = next(&mut ws_alice).await;
    assert_eq!(msg["type"], "next");
    assert_eq!(msg["id"], "1");
    assert_eq!(
        msg["payload"]["data"]["profileUpdated"]["displayName"],
        "Алиса"
    );
    assert_eq!(msg["payload"]["data"]["profileUpdated"]["id"], alice.id);

    // Bob hears nothing of Alice's change, only his own.
    app.gql(Some(&bob.access), UPDATE, json!({ "n": "Бат" }))
        .await
        .expect_data();
    let msg = next(&mut ws_bob).await;
    assert_eq!(
        msg["payload"]["data"]["profileUpdated"]["displayName"],
        "Бат"
    );

    send(&mut ws_alice, json!({ "id": "1", "type": "complete" })).await;
    send(&mut ws_alice, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut ws_alice).await["type"], "pong");
}

#[tokio::test]
async fn queries_run_over_websocket_and_complete() {
    let app = TestApp::spawn().await;
    let mut ws = connect(&app, Some("graphql-transport-ws")).await;
    init(&mut ws, None).await;
    send(
        &mut ws,
        json!({ "id": "q", "type": "subscribe", "payload": { "query": "{ __typename }" } }),
    )
    .await;
    let msg = next(&mut ws).await;
    assert_eq!(
        (
            msg["type"].as_str(),
            msg["payload"]["data"]["__typename"].as_str()
        ),
        (Some("next"), Some("Query"))
    );
    assert_eq!(
        next(&mut ws).await,
        json!({ "type": "complete", "id": "q" })
    );

    send(
        &mut ws,
        json!({ "id": "v", "type": "subscribe", "payload": { "query": "{ nope }" } }),
    )
    .await;
    let msg = next(&mut ws).await;
    assert_eq!(msg["type"], "error");
    assert_eq!(
        msg["payload"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );

    // An anonymous subscriber to a private stream is told why.
    send(
        &mut ws,
        json!({ "id": "p", "type": "subscribe", "payload": { "query": PROFILE } }),
    )
    .await;
    let msg = next(&mut ws).await;
    assert_eq!(
        msg["payload"]["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{msg}"
    );
}

#[tokio::test]
async fn subscribe_before_ack_closes_4401() {
    let app = TestApp::spawn().await;
    let mut ws = connect(&app, Some("graphql-transport-ws")).await;
    send(
        &mut ws,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ __typename }" } }),
    )
    .await;
    assert_eq!(closed(&mut ws).await, (4401, "Unauthorized".into()));
}

#[tokio::test]
async fn duplicate_operation_id_closes_4409_within_frame_limits() {
    let app = TestApp::spawn().await;
    let s = app.register("dup@example.mn", "BUYER").await;
    let mut ws = connect(&app, Some("graphql-transport-ws")).await;
    init(&mut ws, Some(&s.access)).await;
    // A long id would push the reason past 123 bytes if it were not cut.
    let id = "ж".repeat(80);
    send(
        &mut ws,
        json!({ "id": id, "type": "subscribe", "payload": { "query": PROFILE } }),
    )
    .await;
    send(
        &mut ws,
        json!({ "id": id, "type": "subscribe", "payload": { "query": PROFILE } }),
    )
    .await;
    let (code, reason) = closed(&mut ws).await;
    assert_eq!(code, 4409);
    assert!(reason.starts_with("Subscriber for "), "{reason}");
    assert!(reason.len() <= 123);
}

#[tokio::test]
async fn second_init_closes_4429() {
    let app = TestApp::spawn().await;
    let mut ws = connect(&app, Some("graphql-transport-ws")).await;
    init(&mut ws, None).await;
    send(&mut ws, json!({ "type": "connection_init" })).await;
    assert_eq!(closed(&mut ws).await.0, 4429);
}

#[tokio::test]
async fn malformed_messages_close_4400() {
    let app = TestApp::spawn().await;
    for bad in [
        json!("just a string"),
        json!({ "type": "what" }),
        json!({ "no": "type" }),
    ] {
        let mut ws = connect(&app, Some("graphql-transport-ws")).await;
        send(&mut ws, bad.clone()).await;
        assert_eq!(closed(&mut ws).await.0, 4400, "{bad}");
    }
    let mut ws = connect(&app, Some("graphql-transport-ws")).await;
    init(&mut ws, None).await;
    send(
        &mut ws,
        json!({ "id": "x", "type": "subscribe", "payload": { "query": 42 } }),
    )
    .await;
    assert_eq!(closed(&mut ws).await.0, 4400);
}

#[tokio::test]
async fn a_bad_token_in_init_closes_4403() {
    let app = TestApp::spawn().await;
    let mut ws = connect(&app, Some("graphql-transport-ws")).await;
    send(
        &mut ws,
        json!({ "type": "connection_init", "payload": { "authorization": "Bearer forged" } }),
    )
    .await;
    assert_eq!(closed(&mut ws).await.0, 4403);
}

#[tokio::test]
async fn missing_init_times_out_4408_and_wrong_protocol_4406() {
    let app = TestApp::spawn_with(|f| {
        f.merge(figment::providers::Serialized::default(
            "graphql.ws_init_timeout_secs",
            1,
        ))
    })
    .await;
    let mut ws = connect(&app, Some("graphql-transport-ws")).await;
    assert_eq!(closed(&mut ws).await.0, 4408);
    let mut ws = connect(&app, None).await;
    assert_eq!(closed(&mut ws).await.0, 4406);
}

#[tokio::test]
async fn shutdown_closes_sockets_with_1001_and_finishes() {
    let mut app = TestApp::spawn().await;
    let s = app.register("bye@example.mn", "BUYER").await;
    let mut ws = connect(&app, Some("graphql-transport-ws")).await;
    init(&mut ws, Some(&s.access)).await;
    send(
        &mut ws,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": PROFILE } }),
    )
    .await;
    send(&mut ws, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut ws).await["type"], "pong");
    let (stopped, close) = tokio::join!(app.stop(Duration::from_secs(5)), closed(&mut ws));
    assert_eq!(close.0, 1001);
    assert!(stopped, "an open subscription must not hold the shutdown");
}
