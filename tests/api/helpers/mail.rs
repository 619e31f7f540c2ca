//! Reading the mail a server sent: `.eml` files in its outbox folder (the development
//! transport), or what a real SMTP server (aiosmtpd, started here) received.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use mail_parser::MessageParser;

use super::TestApp;

/// One message as the recipient's mail client would show it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub language: String,
    pub message_id: String,
    pub list_unsubscribe: Option<String>,
    pub raw: String,
}

impl Mail {
    /// The first link in the text part that contains `marker`.
    pub fn link(&self, marker: &str) -> Option<String> {
        self.text
            .split_whitespace()
            .find(|w| w.contains(marker) && w.starts_with("http"))
            .map(str::to_owned)
    }

    /// The `token` query parameter of the first link containing `marker`.
    pub fn token(&self, marker: &str) -> String {
        let link = self
            .link(marker)
            .unwrap_or_else(|| panic!("no {marker} link in {}", self.text));
        link.split("token=").nth(1).expect("token").to_owned()
    }
}

pub fn parse(raw: &[u8]) -> Mail {
    let message = MessageParser::default()
        .parse(raw)
        .expect("a parseable message");
    let header = |name: &str| message.header_raw(name).map(|v| v.trim().to_owned());
    Mail {
        to: message
            .to()
            .map(|a| {
                a.iter()
                    .filter_map(|a| a.address().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        subject: message.subject().unwrap_or("").to_owned(),
        text: message
            .body_text(0)
            .map(|t| t.into_owned())
            .unwrap_or_default(),
        html: message
            .body_html(0)
            .map(|t| t.into_owned())
            .unwrap_or_default(),
        language: header("Content-Language").unwrap_or_default(),
        message_id: message.message_id().unwrap_or("").to_owned(),
        list_unsubscribe: header("List-Unsubscribe"),
        raw: String::from_utf8_lossy(raw).into_owned(),
    }
}

/// Every message in a folder of `.eml` files.
pub fn read_folder(dir: &Path) -> Vec<Mail> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
    // In the order they were written: lettre names its files with random UUIDs.
    files.sort_by_key(|p| {
        (
            std::fs::metadata(p).and_then(|m| m.modified()).ok(),
            p.clone(),
        )
    });
    files
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        // lettre's file transport writes in place: a message still being written is left for
        // the next look. Every message is multipart and complete once its closing boundary
        // (`--boundary--`) is there.
        .filter(|raw| raw.trim_ascii_end().ends_with(b"--"))
        .map(|raw| parse(&raw))
        .collect()
}

/// Waits up to 15 s until `pick` finds `count` messages in `dir`.
pub async fn wait_for(dir: &Path, count: usize, pick: impl Fn(&Mail) -> bool) -> Vec<Mail> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let found: Vec<Mail> = read_folder(dir).into_iter().filter(|m| pick(m)).collect();
        if found.len() >= count || tokio::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

impl TestApp {
    /// Where this server's mail lands: its `.eml` outbox, or, in tests that send through
    /// the SMTP server, that server's folder (`SmtpServer::tune` points both there).
    pub fn outbox_dir(&self) -> PathBuf {
        PathBuf::from(&self.state.settings.mail.outbox_dir)
    }

    /// Waits for the `count`-th message to `email` whose subject contains `subject`.
    pub async fn mails_to(&self, email: &str, subject: &str, count: usize) -> Vec<Mail> {
        let mails = wait_for(&self.outbox_dir(), count, |m| {
            m.to.iter().any(|t| t == email) && m.subject.contains(subject)
        })
        .await;
        assert!(
            mails.len() >= count,
            "expected {count} mail(s) to {email} about {subject:?}, got {:?}",
            read_folder(&self.outbox_dir())
                .iter()
                .map(|m| (&m.to, &m.subject))
                .collect::<Vec<_>>()
        );
        mails
    }

    /// Every message sent so far.
    pub fn all_mail(&self) -> Vec<Mail> {
        read_folder(&self.outbox_dir())
    }
}

/// A real SMTP server (Python's aiosmtpd) that writes each message it receives as an `.eml`
/// file, on a free loopback port; stopped when dropped.
pub struct SmtpServer {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: std::process::Child,
}

const HANDLER: &str = r#"
import os, sys, time, uuid
class Save:
    async def handle_DATA(self, server, session, envelope):
        name = "%d-%s.eml" % (time.time_ns(), uuid.uuid4().hex)
        path = os.path.join(os.environ["SMTP_DIR"], name)
        with open(path + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return "250 Message accepted for delivery"
"#;

impl SmtpServer {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("save_handler.py"), HANDLER).expect("handler");
        let port = free_port();
        let child = launch(port, dir.path()).await;
        Self { port, dir, child }
    }

    /// Starts again after `stop`, on the same port and folder.
    pub async fn restart(&mut self) {
        self.child = launch(self.port, self.dir.path()).await;
    }

    /// Settings that send this server's mail through the SMTP server, over plain SMTP on
    /// loopback; `outbox_dir` is pointed at what it received.
    pub fn tune(&self, f: figment::Figment) -> figment::Figment {
        use figment::providers::Serialized;
        f.merge(Serialized::default("mail.transport", "smtp"))
            .merge(Serialized::default("mail.smtp_host", "127.0.0.1"))
            .merge(Serialized::default("mail.smtp_port", self.port))
            .merge(Serialized::default("mail.smtp_security", "none"))
            .merge(Serialized::default("mail.smtp_timeout_secs", 3))
            .merge(Serialized::default(
                "mail.outbox_dir",
                self.dir.path().display().to_string(),
            ))
    }

    pub fn received(&self) -> Vec<Mail> {
        read_folder(self.dir.path())
    }

    pub async fn wait_for(&self, count: usize, pick: impl Fn(&Mail) -> bool) -> Vec<Mail> {
        wait_for(self.dir.path(), count, pick).await
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn launch(port: u16, dir: &Path) -> std::process::Child {
    let python = std::env::var("DARKHAN_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let child = std::process::Command::new(python)
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "save_handler.Save",
        ])
        .current_dir(dir)
        .env("PYTHONPATH", dir)
        .env("SMTP_DIR", dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3 -m aiosmtpd (pip install aiosmtpd)");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "aiosmtpd did not start on {port}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
