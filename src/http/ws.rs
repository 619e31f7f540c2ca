//! GraphQL over WebSocket with the `graphql-transport-ws` protocol, written out here so that
//! every close code the protocol defines is honoured: 4400 bad message, 4401 subscribe before
//! ack, 4403 rejected token, 4406 wrong subprotocol, 4408 init timeout, 4409 duplicate id,
//! 4429 repeated init. Close reasons always fit the 123 bytes a close frame allows. On
//! shutdown every socket closes with 1001 so clients reconnect to another server.

use std::{collections::HashMap, net::SocketAddr, time::Duration};

use async_graphql::{Request as GqlRequest, Variables};
use axum::{
    extract::{
        ConnectInfo, State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    http::HeaderMap,
    response::Response,
};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::{sync::mpsc, task::JoinHandle};

use super::{HttpState, client_address};
use crate::state::AppState;
use crate::{
    auth::{Caller, TokenSession},
    events::DomainEvent,
    graphql::AppSchema,
    kit::{ClientAddress, guard},
};

pub const PROTOCOL: &str = "graphql-transport-ws";

/// Operations one connection may run at once.
pub const MAX_OPERATIONS: usize = 100;

/// `GET /graphql/ws`.
pub async fn upgrade(
    State(state): State<HttpState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let client = client_address(
        &headers,
        Some(peer),
        state.app.settings.server.trust_forwarded_for,
    );
    let accept_language = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let ws = ws.protocols([PROTOCOL]);
    let agreed = ws.selected_protocol().is_some();
    ws.on_upgrade(move |socket| async move {
        let mut connection = Connection {
            socket,
            state,
            client,
            user_agent: crate::kit::UserAgent::from_headers(&headers),
            accept_language,
            caller: None,
            session: None,
            operations: HashMap::new(),
        };
        if agreed {
            connection.run().await;
        } else {
            connection.close(4406, "Subprotocol not acceptable").await;
        }
    })
}

struct Connection {
    socket: WebSocket,
    state: HttpState,
    client: Option<String>,
    user_agent: crate::kit::UserAgent,
    /// The upgrade request's `Accept-Language`, for every operation on the socket.
    accept_language: Option<String>,
    /// Set by `connection_init`; `Some` means acknowledged.
    caller: Option<Caller>,
    /// The signed-in session the socket was opened with: it closes when that ends.
    session: Option<TokenSession>,
    operations: HashMap<String, JoinHandle<()>>,
}

/// Why the connection must end.
struct Close(u16, String);

impl Connection {
    async fn run(&mut self) {
        let (out_tx, mut out_rx) = mpsc::channel::<String>(64);
        let init_timeout = tokio::time::sleep(Duration::from_secs(
            self.state.app.settings.graphql.ws_init_timeout_secs,
        ));
        tokio::pin!(init_timeout);
        let mut closing = self.state.app.closing.subscribe();
        let mut events = self.state.app.events.subscribe();
        // Armed once a signed-in session is known; far in the future until then.
        let expiry = tokio::time::sleep(Duration::from_secs(86_400 * 365));
        tokio::pin!(expiry);
        let mut armed = false;
        let outcome = loop {
            if !armed && let Some(session) = self.session {
                let left = session.expires_at - chrono::Utc::now().timestamp();
                let left = Duration::from_secs(u64::try_from(left).unwrap_or(0));
                expiry.as_mut().reset(tokio::time::Instant::now() + left);
                armed = true;
            }
            tokio::select! {
                incoming = self.socket.recv() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        if let Err(close) = self.handle(text.as_str(), &out_tx).await {
                            break Some(close);
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        break Some(Close(4400, "Binary messages are not supported".into()));
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    // The WebSocket layer has queued the reply echoing the client's code;
                    // flushing sends it, so the client sees its own code, not 1006.
                    Some(Ok(Message::Close(_))) => {
                        let _ = self.socket.flush().await;
                        break None;
                    }
                    Some(Err(_)) | None => break None,
                },
                Some(outgoing) = out_rx.recv() => {
                    if self.socket.send(Message::Text(outgoing.into())).await.is_err() {
                        break None;
                    }
                }
                () = &mut init_timeout, if self.caller.is_none() => {
                    break Some(Close(4408, "Connection initialisation timeout".into()));
                }
                () = &mut expiry, if armed => {
                    break Some(Close(4403, "Access token expired; reconnect with a fresh one".into()));
                }
                event = events.recv(), if self.session.is_some() => match event {
                    Ok(DomainEvent::SessionsRevoked { user_id, family })
                        if self.session.is_some_and(|s| s.revoked_by(user_id, family)) =>
                    {
                        break Some(Close(4403, "Session ended".into()));
                    }
                    // The bus ends only with the server.
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                        break Some(Close(1001, "Server shutting down".into()));
                    }
                    _ => {}
                },
                _ = closing.changed() => {
                    break Some(Close(1001, "Server shutting down".into()));
                }
            }
        };
        for (_, task) in self.operations.drain() {
            task.abort();
        }
        if let Some(Close(code, reason)) = outcome {
            self.close(code, &reason).await;
        }
    }

    async fn close(&mut self, code: u16, reason: &str) {
        let frame = CloseFrame {
            code,
            reason: truncate_reason(reason).into(),
        };
        let _ = self.socket.send(Message::Close(Some(frame))).await;
    }

    async fn send(&mut self, message: Value) -> Result<(), Close> {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .map_err(|_| Close(1011, "send failed".into()))
    }

    async fn handle(&mut self, text: &str, out: &mpsc::Sender<String>) -> Result<(), Close> {
        let invalid = || Close(4400, "Invalid message received".into());
        let message: Value = serde_json::from_str(text).map_err(|_| invalid())?;
        let kind = message
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(invalid)?;
        match kind {
            "connection_init" => {
                if self.caller.is_some() {
                    return Err(Close(4429, "Too many initialisation requests".into()));
                }
                let payload = message.get("payload").filter(|p| !p.is_null());
                if payload.is_some_and(|p| !p.is_object()) {
                    return Err(invalid());
                }
                let token = payload.and_then(|p| {
                    ["authorization", "Authorization", "token"]
                        .iter()
                        .find_map(|key| p.get(*key).and_then(Value::as_str))
                });
                let session = Caller::session_from_bearer(&self.state.app.keys, token)
                    .map_err(|_| Close(4403, "Forbidden".into()))?;
                self.caller = Some(session.map_or(Caller::Anonymous, |s| Caller::User(s.user)));
                self.session = session;
                self.send(json!({ "type": "connection_ack" })).await
            }
            "ping" => self.send(json!({ "type": "pong" })).await,
            "pong" => Ok(()),
            "subscribe" => {
                let Some(caller) = self.caller else {
                    return Err(Close(4401, "Unauthorized".into()));
                };
                let id = message
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|id| !id.is_empty())
                    .ok_or_else(invalid)?
                    .to_owned();
                let mut request = message
                    .get("payload")
                    .and_then(request_from_payload)
                    .ok_or_else(invalid)?;
                if self
                    .operations
                    .get(&id)
                    .is_some_and(|task| !task.is_finished())
                {
                    return Err(Close(4409, format!("Subscriber for {id} already exists")));
                }
                // Each operation is a task; one socket may not hold the server's memory hostage.
                self.operations.retain(|_, task| !task.is_finished());
                if self.operations.len() >= MAX_OPERATIONS {
                    let refused = json!({ "type": "error", "id": id, "payload": [{
                        "message": format!("at most {MAX_OPERATIONS} operations at once on one connection"),
                        "extensions": { "code": "TOO_MANY_REQUESTS" }
                    }] });
                    return self.send(refused).await;
                }
                let document = match guard::check(&self.state.documents, &mut request) {
                    Ok(document) => document,
                    Err(error) => {
                        let refused = json!({ "type": "error", "id": id, "payload": [error] });
                        return self.send(refused).await;
                    }
                };
                let operation = request.operation_name.as_deref();
                // A mutation over the socket changes data like one over HTTP.
                let mutates = guard::changes_public_data(&document, operation);
                let schema = self
                    .state
                    .schema_for(guard::is_introspection(&document, operation))
                    .clone();
                request.set_parsed_query(document);
                let request = crate::graphql::per_request(
                    request,
                    &self.state.app,
                    self.accept_language.as_deref(),
                    caller,
                )
                .await
                .data(ClientAddress(self.client.clone()))
                .data(self.user_agent.clone());
                let changes = mutates.then(|| self.state.app.clone());
                let task = tokio::spawn(run_operation(
                    schema,
                    id.clone(),
                    request,
                    out.clone(),
                    changes,
                ));
                self.operations.insert(id, task);
                Ok(())
            }
            "complete" => {
                let id = message
                    .get("id")
                    .and_then(Value::as_str)
                    .ok_or_else(invalid)?;
                if let Some(task) = self.operations.remove(id) {
                    task.abort();
                }
                Ok(())
            }
            _ => Err(invalid()),
        }
    }
}

/// Reads a `subscribe` payload: `query` required, the rest optional.
fn request_from_payload(payload: &Value) -> Option<GqlRequest> {
    let query = payload.get("query")?.as_str()?;
    let mut request = GqlRequest::new(query);
    match payload.get("variables") {
        None | Some(Value::Null) => {}
        Some(v @ Value::Object(_)) => request = request.variables(Variables::from_json(v.clone())),
        Some(_) => return None,
    }
    match payload.get("operationName") {
        None | Some(Value::Null) => {}
        Some(Value::String(name)) => request.operation_name = Some(name.clone()),
        Some(_) => return None,
    }
    Some(request)
}

/// Streams one operation's results as `next` messages, then `complete`; a request that fails
/// before running gets one `error` message instead.
async fn run_operation(
    schema: AppSchema,
    id: String,
    request: GqlRequest,
    out: mpsc::Sender<String>,
    changes: Option<AppState>,
) {
    if let Some(state) = &changes {
        // As over HTTP: what is read while a mutation runs counts as read before it.
        state.forget_catalogue();
    }
    let mut stream = schema.execute_stream(request);
    let mut first = true;
    while let Some(mut response) = stream.next().await {
        if let Some(state) = &changes {
            state.catalogue_changed();
        }
        let request_error = !crate::kit::errors::label_response(&mut response) && first;
        first = false;
        let message = if request_error {
            json!({ "type": "error", "id": id, "payload": response.errors })
        } else {
            json!({ "type": "next", "id": id, "payload": response })
        };
        if out.send(message.to_string()).await.is_err() || request_error {
            return;
        }
    }
    let _ = out
        .send(json!({ "type": "complete", "id": id }).to_string())
        .await;
}

/// A close reason must fit in 123 bytes of UTF-8.
fn truncate_reason(reason: &str) -> String {
    const MAX: usize = 123;
    if reason.len() <= MAX {
        return reason.to_owned();
    }
    let mut end = MAX;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason[..end].to_owned()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reasons_fit_a_close_frame() {
        let long = "Subscriber for ".to_owned() + &"ж".repeat(100) + " already exists";
        let cut = super::truncate_reason(&long);
        assert!(cut.len() <= 123);
        assert!(long.starts_with(&cut));
        assert_eq!(super::truncate_reason("Unauthorized"), "Unauthorized");
    }
}
