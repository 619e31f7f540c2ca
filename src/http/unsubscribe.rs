//! One-click unsubscribe (RFC 8058). Mail clients POST to the link in `List-Unsubscribe`;
//! a person who opens it gets a page with one button, because mail scanners open (GET)
//! every link and must not unsubscribe anyone by doing so.

use axum::{
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::HttpState;

#[derive(Deserialize)]
pub struct Params {
    token: Option<String>,
}

fn page(status: StatusCode, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width\"><title>Darkhan</title></head><body style=\"font-family:\
         sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem\">{body}</body></html>"
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The confirmation page.
pub async fn show(Query(params): Query<Params>) -> Response {
    let token = escape(params.token.as_deref().unwrap_or(""));
    page(
        StatusCode::OK,
        &format!(
            "<p>Stop receiving these emails from Darkhan? / Эдгээр имэйлийг авахаа болих уу?</p>\
             <form method=\"post\" action=\"?token={token}\"><input type=\"hidden\" \
             name=\"List-Unsubscribe\" value=\"One-Click\"><button type=\"submit\">\
             Unsubscribe / Татгалзах</button></form>"
        ),
    )
}

/// The one-click POST: mutes the link's kind for its user.
pub async fn apply(State(state): State<HttpState>, Query(params): Query<Params>) -> Response {
    let token = params.token.unwrap_or_default();
    match crate::notifications::inbox::unsubscribe(&state.app, &token).await {
        Ok(()) => page(
            StatusCode::OK,
            "<p>Done: you will not receive these emails any more. / Болсон: та эдгээр имэйлийг \
             дахин авахгүй.</p>",
        ),
        Err(e) => e.into_response(),
    }
}
