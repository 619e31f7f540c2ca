//! The one place that talks to Stripe, through the async-stripe client. Every money-moving
//! call carries an idempotency key built from our own ids, so a retry after a timeout can
//! never move money twice.

use std::collections::HashMap;

use secrecy::{ExposeSecret, SecretString};
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_connect::{
    account::{
        CreateAccount, CreateAccountCapabilities, CreateAccountCapabilitiesTransfers,
        CreateAccountType,
    },
    account_link::{CreateAccountLink, CreateAccountLinkType},
    transfer::CreateTransfer,
};
use stripe_core::{
    payment_intent::{
        CancelPaymentIntent, CreatePaymentIntent, CreatePaymentIntentAutomaticPaymentMethods,
        RetrievePaymentIntent, UpdatePaymentIntent,
    },
    refund::CreateRefund,
};
use stripe_webhook::{Event, Webhook, WebhookError};

use crate::{
    config::StripeSettings,
    error::{AppError, AppResult},
};

/// The Stripe client with the secrets it needs.
pub struct Gateway {
    client: Client,
    webhook_secret: SecretString,
    pub publishable_key: Option<String>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").finish_non_exhaustive()
    }
}

/// What we keep of a PaymentIntent.
#[derive(Debug, Clone)]
pub struct Intent {
    pub id: String,
    pub client_secret: Option<String>,
    pub status: String,
}

impl From<stripe_core::PaymentIntent> for Intent {
    fn from(intent: stripe_core::PaymentIntent) -> Self {
        Self {
            id: intent.id.to_string(),
            client_secret: intent.client_secret,
            status: intent.status.as_str().to_owned(),
        }
    }
}

/// A refund as Stripe answered it.
#[derive(Debug, Clone)]
pub struct ProviderRefund {
    pub id: String,
    pub status: String,
}

/// A Connect onboarding link.
#[derive(Debug, Clone)]
pub struct OnboardingLink {
    pub url: String,
    pub expires_at: i64,
}

/// One transfer of a payout to a connected account.
#[derive(Debug, Clone)]
pub struct TransferRequest<'a> {
    pub amount_minor: i64,
    pub currency: &'a str,
    pub destination: &'a str,
    pub transfer_group: String,
    pub idempotency_key: String,
    pub metadata: HashMap<String, String>,
}

impl Gateway {
    /// The gateway when both secrets are configured, else `None` (card payments off).
    pub fn from_settings(settings: &StripeSettings) -> anyhow::Result<Option<Self>> {
        let Some((key, hook)) = settings.secrets() else {
            return Ok(None);
        };
        // async-stripe appends `v1/…` to the base, so it must end with a slash.
        let mut base = settings.api_base.clone();
        if !base.ends_with('/') {
            base.push('/');
        }
        let client = ClientBuilder::new(key)
            .url(base)
            .app_info("darkhan", Some(env!("CARGO_PKG_VERSION").into()), None)
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .map_err(|e| anyhow::anyhow!("building the Stripe client: {e}"))?;
        Ok(Some(Self {
            client,
            webhook_secret: SecretString::from(hook.to_owned()),
            publishable_key: settings.publishable_key.clone(),
        }))
    }

    /// Creates the PaymentIntent for a checkout. The same key always yields the same intent.
    pub async fn create_payment_intent(
        &self,
        amount_minor: i64,
        currency: &str,
        checkout_id: &str,
        idempotency_key: &str,
    ) -> AppResult<Intent> {
        let metadata = HashMap::from([("checkout_id".to_owned(), checkout_id.to_owned())]);
        let intent = CreatePaymentIntent::new(amount_minor, stripe_currency(currency)?)
            .automatic_payment_methods(CreatePaymentIntentAutomaticPaymentMethods::new(true))
            .transfer_group(checkout_id)
            .description(format!("Darkhan checkout {checkout_id}"))
            .metadata(metadata)
            .customize()
            .request_strategy(idempotent(idempotency_key)?)
            .send(&self.client)
            .await
            .map_err(provider_error)?;
        Ok(intent.into())
    }

    pub async fn retrieve_payment_intent(&self, id: &str) -> AppResult<Intent> {
        let intent = RetrievePaymentIntent::new(id)
            .send(&self.client)
            .await
            .map_err(provider_error)?;
        Ok(intent.into())
    }

    /// Changes what an unpaid intent will charge (an order of its checkout was cancelled).
    pub async fn update_amount(
        &self,
        id: &str,
        amount_minor: i64,
        idempotency_key: &str,
    ) -> AppResult<Intent> {
        let intent = UpdatePaymentIntent::new(id)
            .amount(amount_minor)
            .customize()
            .request_strategy(idempotent(idempotency_key)?)
            .send(&self.client)
            .await
            .map_err(provider_error)?;
        Ok(intent.into())
    }

    /// Cancels an unpaid intent so it can no longer be confirmed.
    pub async fn cancel_payment_intent(&self, id: &str, idempotency_key: &str) -> AppResult<()> {
        CancelPaymentIntent::new(id)
            .customize()
            .request_strategy(idempotent(idempotency_key)?)
            .send(&self.client)
            .await
            .map_err(provider_error)?;
        Ok(())
    }

    /// Refunds part or all of a PaymentIntent.
    pub async fn refund(
        &self,
        payment_intent: &str,
        amount_minor: i64,
        metadata: HashMap<String, String>,
        idempotency_key: &str,
    ) -> AppResult<ProviderRefund> {
        let refund = CreateRefund::new()
            .payment_intent(payment_intent)
            .amount(amount_minor)
            .metadata(metadata)
            .customize()
            .request_strategy(idempotent(idempotency_key)?)
            .send(&self.client)
            .await
            .map_err(provider_error)?;
        Ok(ProviderRefund {
            id: refund.id.to_string(),
            status: refund.status.unwrap_or_else(|| "pending".into()),
        })
    }

    /// Creates an Express connected account for a shop.
    pub async fn create_account(
        &self,
        email: &str,
        shop_id: &str,
        idempotency_key: &str,
    ) -> AppResult<String> {
        let mut capabilities = CreateAccountCapabilities::new();
        let mut transfers = CreateAccountCapabilitiesTransfers::new();
        transfers.requested = Some(true);
        capabilities.transfers = Some(transfers);
        let account = CreateAccount::new()
            .type_(CreateAccountType::Express)
            .email(email)
            .capabilities(capabilities)
            .metadata(HashMap::from([("shop_id".to_owned(), shop_id.to_owned())]))
            .customize()
            .request_strategy(idempotent(idempotency_key)?)
            .send(&self.client)
            .await
            .map_err(provider_error)?;
        Ok(account.id.to_string())
    }

    /// A single-use onboarding link for a connected account.
    pub async fn onboarding_link(
        &self,
        account: &str,
        return_url: &str,
        refresh_url: &str,
    ) -> AppResult<OnboardingLink> {
        let link = CreateAccountLink::new(account, CreateAccountLinkType::AccountOnboarding)
            .return_url(return_url)
            .refresh_url(refresh_url)
            .send(&self.client)
            .await
            .map_err(provider_error)?;
        Ok(OnboardingLink {
            url: link.url,
            expires_at: link.expires_at,
        })
    }

    /// Transfers money from the platform to a connected account; returns the transfer id.
    pub async fn transfer(&self, request: TransferRequest<'_>) -> AppResult<String> {
        let transfer = CreateTransfer::new(stripe_currency(request.currency)?, request.destination)
            .amount(request.amount_minor)
            .transfer_group(request.transfer_group)
            .metadata(request.metadata)
            .customize()
            .request_strategy(idempotent(&request.idempotency_key)?)
            .send(&self.client)
            .await
            .map_err(provider_error)?;
        Ok(transfer.id.to_string())
    }

    /// Checks the `Stripe-Signature` header over the raw body, then parses the event.
    pub fn verify(&self, body: &str, signature: &str) -> Result<Event, WebhookError> {
        Webhook::construct_event(body, signature, self.webhook_secret.expose_secret())
    }
}

fn idempotent(key: &str) -> AppResult<RequestStrategy> {
    IdempotencyKey::new(key)
        .map(RequestStrategy::Idempotent)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("idempotency key {key}: {e:?}")))
}

fn stripe_currency(code: &str) -> AppResult<stripe_types::Currency> {
    code.to_ascii_lowercase()
        .parse()
        .map_err(|_| AppError::invalid("currency", format!("Stripe does not take {code}")))
}

/// Stripe's refusals keep their message (the client can act on them); anything else is an
/// outage the client may retry.
fn provider_error(err: StripeError) -> AppError {
    match err {
        StripeError::Stripe(api, status) if (400..500).contains(&status) => {
            tracing::warn!(status, error = ?api.message, code = ?api.code, "Stripe refused");
            AppError::refused(
                "PAYMENT_PROVIDER_ERROR",
                format!(
                    "the payment provider refused: {}",
                    api.message.as_deref().unwrap_or("no reason given")
                ),
            )
        }
        other => {
            tracing::error!(error = %other, "Stripe unreachable or failing");
            AppError::refused(
                "PAYMENT_PROVIDER_UNAVAILABLE",
                "the payment provider could not be reached; try again",
            )
        }
    }
}
