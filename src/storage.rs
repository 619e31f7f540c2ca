//! Object storage behind one interface: a folder on this machine by default, an
//! S3-compatible bucket by configuration. What is stored and why is the media domain's
//! business; this module only moves bytes and signs upload addresses.

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use bytes::Bytes;
use object_store::{
    Attribute, Attributes, ObjectStore, ObjectStoreExt, PutOptions, PutPayload, path::Path,
    signer::Signer,
};
use secrecy::ExposeSecret;

use crate::config::{MediaSettings, StorageKind};

/// Where objects live.
pub struct Storage {
    store: Arc<dyn ObjectStore>,
    /// Present with S3: signs one-time upload addresses.
    signer: Option<Arc<dyn Signer>>,
    kind: StorageKind,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Storage({})", self.store)
    }
}

/// What a read found.
pub struct Object {
    pub bytes: Bytes,
}

impl Storage {
    pub fn from_settings(settings: &MediaSettings) -> anyhow::Result<Self> {
        // reqwest (S3's HTTP client) is built without a TLS provider of its own: use ring, as
        // the rest of the tree does. Installing it again is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        match settings.storage {
            StorageKind::Local => {
                std::fs::create_dir_all(&settings.local_dir)
                    .with_context(|| format!("creating {}", settings.local_dir))?;
                let store =
                    object_store::local::LocalFileSystem::new_with_prefix(&settings.local_dir)
                        .context("opening the media folder")?;
                Ok(Self {
                    store: Arc::new(store),
                    signer: None,
                    kind: StorageKind::Local,
                })
            }
            StorageKind::S3 => {
                let s3 = &settings.s3;
                let mut builder = object_store::aws::AmazonS3Builder::new()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region)
                    .with_allow_http(s3.endpoint.starts_with("http://"))
                    .with_virtual_hosted_style_request(s3.virtual_hosted_style);
                if !s3.endpoint.is_empty() {
                    builder = builder.with_endpoint(&s3.endpoint);
                }
                if let (Some(id), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
                    builder = builder
                        .with_access_key_id(id.expose_secret())
                        .with_secret_access_key(secret.expose_secret());
                }
                let store = Arc::new(builder.build().context("configuring the S3 bucket")?);
                Ok(Self {
                    store: store.clone(),
                    signer: Some(store),
                    kind: StorageKind::S3,
                })
            }
        }
    }

    pub fn kind(&self) -> StorageKind {
        self.kind
    }

    /// Writes an object whole (readers never see part of it) with the headers it is served
    /// with when the bucket itself answers.
    pub async fn put(
        &self,
        key: &str,
        bytes: Bytes,
        content_type: &str,
        cache_control: &str,
    ) -> anyhow::Result<()> {
        let mut attributes = Attributes::new();
        attributes.insert(Attribute::ContentType, content_type.to_owned().into());
        attributes.insert(Attribute::CacheControl, cache_control.to_owned().into());
        let options = PutOptions {
            attributes: if self.kind == StorageKind::S3 {
                attributes
            } else {
                // The local store keeps no attributes; the server knows them from the key.
                Attributes::new()
            },
            ..Default::default()
        };
        self.store
            .put_opts(&Path::from(key), PutPayload::from_bytes(bytes), options)
            .await
            .with_context(|| format!("storing {key}"))?;
        Ok(())
    }

    /// The whole object, or `None` when there is none.
    pub async fn get(&self, key: &str) -> anyhow::Result<Option<Object>> {
        match self.store.get(&Path::from(key)).await {
            Ok(found) => Ok(Some(Object {
                bytes: found
                    .bytes()
                    .await
                    .with_context(|| format!("reading {key}"))?,
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(err) => Err(anyhow::Error::new(err).context(format!("reading {key}"))),
        }
    }

    /// The size of an object, or `None` when there is none.
    pub async fn size(&self, key: &str) -> anyhow::Result<Option<u64>> {
        match self.store.head(&Path::from(key)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(err) => Err(anyhow::Error::new(err).context(format!("looking up {key}"))),
        }
    }

    /// Removes an object; one that is already gone is fine.
    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(anyhow::Error::new(err).context(format!("deleting {key}"))),
        }
    }

    /// A presigned PUT address for `key`, valid for `ttl`: `None` for local storage, where
    /// the server receives uploads itself.
    pub async fn presigned_put(&self, key: &str, ttl: Duration) -> anyhow::Result<Option<String>> {
        let Some(signer) = &self.signer else {
            return Ok(None);
        };
        let url = signer
            .signed_url(axum::http::Method::PUT, &Path::from(key), ttl)
            .await
            .context("signing an upload address")?;
        Ok(Some(url.to_string()))
    }
}
