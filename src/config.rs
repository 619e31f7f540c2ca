//! Typed settings: the built-in `config/default.toml`, then `config/{env}.toml`, then
//! `DARKHAN_*` environment variables. A wrong value stops start-up naming its key.

use figment::{
    Figment,
    providers::{Env, Format, Toml},
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::str::FromStr as _;

/// The secret shipped in `config/default.toml`; production refuses to run with it.
const DEVELOPMENT_JWT_SECRET: &str = "darkhan-development-secret-do-not-use-in-production";

/// Whether this is a developer's machine or a real deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Development,
    Production,
}

/// All settings of the service.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub mode: Mode,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub graphql: GraphqlSettings,
    pub orders: OrderSettings,
    pub payments: PaymentSettings,
    pub stripe: StripeSettings,
    pub bank_transfer: BankTransferSettings,
    pub public: PublicSettings,
    pub mail: MailSettings,
    pub notifications: NotificationSettings,
    pub media: MediaSettings,
    pub promotions: PromotionSettings,
    pub distribution: DistributionSettings,
    pub statistics: StatisticsSettings,
    pub log: LogSettings,
}

/// Where the web front end and this API are reached from outside, for links in messages.
#[derive(Debug, Clone, Deserialize)]
pub struct PublicSettings {
    pub web_base_url: String,
    pub api_base_url: String,
}

/// Where photos are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    Local,
    S3,
}

/// An S3-compatible bucket; the keys come from the environment.
#[derive(Debug, Clone, Deserialize)]
pub struct S3Settings {
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub virtual_hosted_style: bool,
    pub access_key_id: Option<SecretString>,
    pub secret_access_key: Option<SecretString>,
}

/// Uploading, checking, processing and serving photos.
#[derive(Debug, Clone, Deserialize)]
pub struct MediaSettings {
    pub storage: StorageKind,
    pub local_dir: String,
    /// Where renditions are fetched from; empty means this server's `/media`.
    pub public_base_url: String,
    pub max_upload_bytes: u64,
    pub max_pixels: u64,
    pub shop_quota_bytes: i64,
    pub rendition_widths: Vec<u32>,
    pub jpeg_quality: u8,
    pub webp_quality: f32,
    /// Photos processed at once (0: one per core) and how many more may wait.
    pub processing_workers: usize,
    pub processing_queue: usize,
    pub upload_url_ttl_secs: u64,
    pub pending_upload_hours: i64,
    pub unattached_grace_hours: i64,
    pub sweep_interval_secs: u64,
    /// Renditions kept in memory for serving, in bytes (0 turns it off).
    pub serve_cache_bytes: u64,
    pub s3: S3Settings,
}

impl MediaSettings {
    /// The base of rendition addresses, without a trailing slash.
    pub fn base_url(&self, public: &PublicSettings) -> String {
        if self.public_base_url.is_empty() {
            format!("{}/media", public.api_base_url.trim_end_matches('/'))
        } else {
            self.public_base_url.trim_end_matches('/').to_owned()
        }
    }
}

/// How email leaves the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    File,
    Smtp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    Starttls,
    Tls,
    None,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MailSettings {
    pub transport: MailTransport,
    pub outbox_dir: String,
    pub from: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_security: SmtpSecurity,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<SecretString>,
    pub smtp_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NotificationSettings {
    pub poll_interval_ms: u64,
    pub batch_size: u64,
    pub max_attempts: i32,
    pub retry_base_secs: i64,
    pub claim_secs: i64,
    pub reset_requests_per_email: u32,
    pub reset_requests_per_client: u32,
}

/// The platform's bank account in one language.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct BankDetails {
    pub bank: String,
    pub account_holder: String,
    pub account_number: String,
    pub iban: String,
    pub swift: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BankTransferSettings {
    /// By language tag; `en` is the fallback.
    pub details: std::collections::BTreeMap<String, BankDetails>,
}

impl BankTransferSettings {
    /// The details in `language`, else English.
    pub fn details_in(&self, language: &str) -> Option<&BankDetails> {
        self.details
            .get(language)
            .or_else(|| self.details.get("en"))
            .or_else(|| self.details.values().next())
    }
}

/// A carrier the platform knows, with its tracking page.
#[derive(Debug, Clone, Deserialize)]
pub struct Carrier {
    pub code: String,
    pub name: String,
    pub tracking_url: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OrderSettings {
    /// Minutes an unpaid card order holds its stock.
    pub payment_window_minutes: i64,
    /// Hours an unpaid bank-transfer order holds its stock.
    pub bank_transfer_window_hours: i64,
    /// Hours before a bank-transfer order expires that its buyer is reminded.
    pub bank_transfer_reminder_hours: i64,
    /// Seconds between sweeps for expired unpaid orders.
    pub expiry_sweep_secs: u64,
    /// Carriers with tracking pages.
    #[serde(default)]
    pub carriers: Vec<Carrier>,
}

/// Product feeds and the pages search engines index.
#[derive(Debug, Clone, Deserialize)]
pub struct DistributionSettings {
    /// Countries feeds are made for (ISO 3166-1 alpha-2), each with the currency buyers
    /// there pay in.
    pub markets: std::collections::BTreeMap<String, String>,
    /// Languages feeds, sitemaps and pages are offered in (BCP 47, as products are written).
    pub languages: Vec<String>,
    /// The currency a shared product page shows prices in when its link names none.
    pub page_currency: String,
    /// Products read from the database per round trip while a feed streams.
    pub feed_batch: u64,
    /// How often counted views and additions to carts are written to the analytics.
    pub analytics_flush_secs: u64,
}

/// Market statistics and open data.
#[derive(Debug, Clone, Deserialize)]
pub struct StatisticsSettings {
    /// k: a published cell holds at least this many distinct shops.
    pub min_shops: usize,
    /// How often orders changed since are recomputed into the statistics.
    pub drain_interval_ms: u64,
    /// The licence the open data is published under, as stated in every file.
    pub licence: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PromotionSettings {
    /// Unknown codes a buyer (or guest cart) may try per window.
    pub max_failures_per_buyer: u32,
    /// Unknown codes one client address may try per window.
    pub max_failures_per_client: u32,
    /// The window, in seconds.
    pub failure_window_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PaymentSettings {
    /// The platform's commission in basis points (1000 = 10 %), unless a shop has its own.
    pub commission_bps: i32,
    /// Days after delivery before an order's money can be paid out.
    pub holding_days: i64,
}

/// Stripe is on when both secrets are set; without them CARD is unavailable.
#[derive(Debug, Clone, Deserialize)]
pub struct StripeSettings {
    pub secret_key: Option<SecretString>,
    pub webhook_secret: Option<SecretString>,
    /// Where the Stripe API lives; tests point it at a local fake.
    pub api_base: String,
    /// Handed to clients with a payment so they can start Stripe.js or the mobile SDK.
    pub publishable_key: Option<String>,
}

impl StripeSettings {
    /// The secret key and webhook secret, when card payments are configured.
    pub fn secrets(&self) -> Option<(&str, &str)> {
        let key = self.secret_key.as_ref()?.expose_secret();
        let hook = self.webhook_secret.as_ref()?.expose_secret();
        (!key.is_empty() && !hook.is_empty()).then_some((key, hook))
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub cors_origins: Vec<String>,
    pub body_limit_bytes: usize,
    pub request_timeout_secs: u64,
    pub trust_forwarded_for: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    pub jwt_secret: SecretString,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_days: i64,
    pub login_max_failures_per_email: u32,
    pub login_max_failures_per_client: u32,
    pub login_failure_window_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GraphqlSettings {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub ws_init_timeout_secs: u64,
    pub response_cache_ttl_ms: u64,
    /// How long browsers (`max-age`) and shared caches such as a CDN (`s-maxage`) may keep
    /// the answer to an anonymous GET query; stale answers may be served for
    /// `public_stale_secs` more while a fresh one is fetched.
    pub public_max_age_secs: u64,
    pub public_shared_max_age_secs: u64,
    pub public_stale_secs: u64,
    /// Only documents of the manifest run (production allow-list mode).
    pub persisted_queries_only: bool,
    /// Apollo persisted query manifest to load at start; empty for none.
    pub persisted_queries_manifest: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub format: LogFormat,
    pub filter: String,
}

/// Why the settings could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // Not `#[from]`: that would make figment's error the source too, printed twice.
    #[error("invalid configuration: {0}")]
    Invalid(Box<figment::Error>),
    #[error("invalid configuration: {key}: {message}")]
    Rejected { key: &'static str, message: String },
}

impl From<Box<figment::Error>> for ConfigError {
    fn from(err: Box<figment::Error>) -> Self {
        Self::Invalid(err)
    }
}

impl Settings {
    /// Loads the layered settings for the environment named by `DARKHAN_ENV`
    /// (default `development`).
    pub fn load() -> Result<Self, ConfigError> {
        let env = std::env::var("DARKHAN_ENV").unwrap_or_else(|_| "development".into());
        Self::from_figment(Self::figment(&env))
    }

    /// The layers without the final extraction, so tests and tools can add their own.
    pub fn figment(env: &str) -> Figment {
        Figment::new()
            // The defaults are compiled in, so the binary runs from any directory.
            .merge(Toml::string(include_str!("../config/default.toml")))
            .merge(Toml::file("config/default.toml"))
            .merge(Toml::file(format!("config/{env}.toml")))
            .merge(Env::prefixed("DARKHAN_").split("__").ignore(&["env"]))
    }

    /// Extracts and checks the settings.
    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let settings: Settings = figment.extract().map_err(Box::new)?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let secret = self.auth.jwt_secret.expose_secret();
        if self.mode == Mode::Production && secret == DEVELOPMENT_JWT_SECRET {
            return Err(ConfigError::Rejected {
                key: "auth.jwt_secret",
                message: "production refuses the development secret; set DARKHAN_AUTH__JWT_SECRET"
                    .into(),
            });
        }
        if secret.len() < 32 {
            return Err(ConfigError::Rejected {
                key: "auth.jwt_secret",
                message: "must be at least 32 characters".into(),
            });
        }
        if self.auth.access_token_ttl_secs <= 0 || self.auth.refresh_token_ttl_days <= 0 {
            return Err(ConfigError::Rejected {
                key: "auth.access_token_ttl_secs",
                message: "token lifetimes must be positive".into(),
            });
        }
        if !(0..=10_000).contains(&self.payments.commission_bps) {
            return Err(ConfigError::Rejected {
                key: "payments.commission_bps",
                message: "must be between 0 and 10000 basis points".into(),
            });
        }
        if self.payments.holding_days < 0 {
            return Err(ConfigError::Rejected {
                key: "payments.holding_days",
                message: "cannot be negative".into(),
            });
        }
        if !self.stripe.api_base.starts_with("http://")
            && !self.stripe.api_base.starts_with("https://")
        {
            return Err(ConfigError::Rejected {
                key: "stripe.api_base",
                message: "must be an http(s) address".into(),
            });
        }
        if self.bank_transfer.details.is_empty() {
            return Err(ConfigError::Rejected {
                key: "bank_transfer.details",
                message: "the platform's bank details are needed for bank transfers".into(),
            });
        }
        if lettre::message::Mailbox::from_str(&self.mail.from).is_err() {
            return Err(ConfigError::Rejected {
                key: "mail.from",
                message: "must be an address such as \"Darkhan <no-reply@darkhan.mn>\"".into(),
            });
        }
        for (key, url) in [
            ("public.web_base_url", &self.public.web_base_url),
            ("public.api_base_url", &self.public.api_base_url),
        ] {
            if !url.starts_with("http://") && !url.starts_with("https://") {
                return Err(ConfigError::Rejected {
                    key,
                    message: "must be an http(s) address".into(),
                });
            }
        }
        if self.notifications.max_attempts < 1 || self.notifications.batch_size == 0 {
            return Err(ConfigError::Rejected {
                key: "notifications.max_attempts",
                message: "at least one attempt and a batch of at least one".into(),
            });
        }
        let media = &self.media;
        if media.rendition_widths.is_empty()
            || media
                .rendition_widths
                .iter()
                .any(|w| !(16..=4096).contains(w))
        {
            return Err(ConfigError::Rejected {
                key: "media.rendition_widths",
                message: "at least one width, each 16 to 4096 pixels".into(),
            });
        }
        if media.max_upload_bytes == 0 || media.max_pixels == 0 {
            return Err(ConfigError::Rejected {
                key: "media.max_upload_bytes",
                message: "the upload and pixel limits must be positive".into(),
            });
        }
        if media.storage == StorageKind::S3 && media.public_base_url.is_empty() {
            return Err(ConfigError::Rejected {
                key: "media.public_base_url",
                message: "with S3 storage, say where buyers fetch photos from (the bucket's \
                          public address or a CDN)"
                    .into(),
            });
        }
        // A statistics rebuild reads on one connection while its transaction writes on
        // another.
        if self.database.max_connections < 2 {
            return Err(ConfigError::Rejected {
                key: "database.max_connections",
                message: "must be at least 2".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::providers::Serialized;

    #[test]
    fn defaults_load() {
        let settings = Settings::from_figment(Settings::figment("none")).expect("defaults");
        assert_eq!(settings.server.port, 8080);
        assert_eq!(settings.mode, Mode::Development);
    }

    #[test]
    fn a_wrong_value_names_its_key() {
        let figment = Settings::figment("none").merge(Serialized::default("server.port", "lots"));
        let err = Settings::from_figment(figment)
            .expect_err("must fail")
            .to_string();
        assert!(err.contains("server.port"), "{err}");
    }

    #[test]
    fn production_refuses_the_development_secret() {
        let figment = Settings::figment("none").merge(Serialized::default("mode", "production"));
        let err = Settings::from_figment(figment)
            .expect_err("must fail")
            .to_string();
        assert!(err.contains("auth.jwt_secret"), "{err}");
    }

    #[test]
    fn a_pool_of_one_connection_is_refused() {
        let figment =
            Settings::figment("none").merge(Serialized::default("database.max_connections", 1));
        let err = Settings::from_figment(figment)
            .expect_err("a rebuild needs two")
            .to_string();
        assert!(err.contains("database.max_connections"), "{err}");
        let figment =
            Settings::figment("none").merge(Serialized::default("database.max_connections", 2));
        assert!(Settings::from_figment(figment).is_ok());
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let settings = Settings::from_figment(Settings::figment("none")).expect("defaults");
        assert!(!format!("{settings:?}").contains(DEVELOPMENT_JWT_SECRET));
    }
}
