//! Email leaving the server, through `lettre`: SMTP (STARTTLS, implicit TLS, or plain for a
//! local relay) in production, `.eml` files under `data/outbox/` in development.

use std::time::Duration;

use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{
        Mailbox, MultiPart, SinglePart,
        header::{ContentType, HeaderName, HeaderValue},
    },
    transport::smtp::authentication::Credentials,
};
use secrecy::ExposeSecret;
use uuid::Uuid;

use super::compose;
use crate::config::{MailSettings, MailTransport, SmtpSecurity};

/// Where messages go.
#[derive(Clone)]
pub enum Mailer {
    File(AsyncFileTransport<Tokio1Executor>),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl Mailer {
    pub fn from_settings(mail: &MailSettings) -> anyhow::Result<Self> {
        Ok(match mail.transport {
            MailTransport::File => {
                std::fs::create_dir_all(&mail.outbox_dir)?;
                Mailer::File(AsyncFileTransport::new(&mail.outbox_dir))
            }
            MailTransport::Smtp => {
                let host = mail.smtp_host.as_str();
                let mut builder = match mail.smtp_security {
                    SmtpSecurity::Starttls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?
                    }
                    SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
                    SmtpSecurity::None => {
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
                    }
                }
                .port(mail.smtp_port)
                .timeout(Some(Duration::from_secs(mail.smtp_timeout_secs.max(1))));
                if let (Some(user), Some(password)) = (&mail.smtp_username, &mail.smtp_password)
                    && !user.is_empty()
                {
                    builder = builder.credentials(Credentials::new(
                        user.clone(),
                        password.expose_secret().to_owned(),
                    ));
                }
                Mailer::Smtp(builder.build())
            }
        })
    }

    /// Sends one message. Its Message-ID is derived from the outbox row, so a message sent
    /// again after a crash is recognisably the same message.
    pub async fn send(
        &self,
        from: &str,
        row: Uuid,
        message: &compose::Message,
    ) -> Result<(), String> {
        let email = build(from, row, message)?;
        match self {
            Mailer::File(t) => t.send(email).await.map(|_| ()).map_err(|e| e.to_string()),
            Mailer::Smtp(t) => t.send(email).await.map(|_| ()).map_err(|e| e.to_string()),
        }
    }
}

fn header(name: &'static str, value: String) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
}

fn build(from: &str, row: Uuid, message: &compose::Message) -> Result<Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("mail.from: {e}"))?;
    let to = Mailbox::new(
        Some(message.to_name.clone()),
        message
            .to_email
            .parse()
            .map_err(|e| format!("recipient address: {e}"))?,
    );
    let domain = from.email.domain().to_owned();
    let mut builder = Message::builder()
        .from(from)
        .to(to)
        .subject(message.rendered.subject.clone())
        .message_id(Some(format!("<{row}@{domain}>")))
        .raw_header(header(
            "Content-Language",
            message.rendered.language.to_owned(),
        ));
    if let Some(url) = &message.unsubscribe {
        builder = builder
            .raw_header(header("List-Unsubscribe", format!("<{url}>")))
            .raw_header(header(
                "List-Unsubscribe-Post",
                "List-Unsubscribe=One-Click".to_owned(),
            ));
    }
    builder
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(message.rendered.text.clone()),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(message.rendered.html.clone()),
                ),
        )
        .map_err(|e| e.to_string())
}
