//! Persisted queries: Apollo's automatic persisted queries (a client sends the SHA-256 of a
//! document; when the server does not know it yet the client sends both once), and an
//! allow-list mode for production where only the documents of a manifest run, so mobile apps
//! send a hash instead of a 3 KB document and nobody can send arbitrary queries.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use async_graphql::{Request as GqlRequest, ServerError, Value};
use serde::Deserialize;

use crate::{
    config::GraphqlSettings,
    kit::{errors::BAD_USER_INPUT, guard::coded},
};

/// The client named a hash the server does not know: send the document with it.
pub const NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
/// Allow-list mode: only registered documents run.
pub const REQUIRED: &str = "PERSISTED_QUERY_REQUIRED";

/// Documents kept in memory beyond the manifest; past it, an arbitrary registered one makes
/// room (a client whose hash was dropped just sends its document again).
const CAPACITY: usize = 10_000;

/// Documents by hex SHA-256.
pub struct PersistedQueries {
    documents: Mutex<HashMap<String, Arc<str>>>,
    /// Only the manifest's documents run; clients cannot register more.
    allow_list_only: bool,
}

/// Apollo's persisted query manifest (`apollo-persisted-query-manifest`).
#[derive(Deserialize)]
struct Manifest {
    operations: Vec<ManifestOperation>,
}

#[derive(Deserialize)]
struct ManifestOperation {
    id: String,
    body: String,
}

impl PersistedQueries {
    /// From the settings: the manifest (if any) is read and every entry's hash checked.
    pub fn from_settings(settings: &GraphqlSettings) -> anyhow::Result<Self> {
        let mut documents = HashMap::new();
        if !settings.persisted_queries_manifest.is_empty() {
            let path = &settings.persisted_queries_manifest;
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("reading the persisted query manifest {path}: {e}"))?;
            let manifest: Manifest = serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("the persisted query manifest {path}: {e}"))?;
            for op in manifest.operations {
                let id = op.id.to_ascii_lowercase();
                if crate::tokens::hash(&op.body) != id {
                    anyhow::bail!("the manifest's operation {id} does not hash to its id");
                }
                documents.insert(id, Arc::from(op.body.as_str()));
            }
        }
        if settings.persisted_queries_only && documents.is_empty() {
            anyhow::bail!("persisted_queries_only needs a persisted_queries_manifest");
        }
        Ok(Self {
            documents: Mutex::new(documents),
            allow_list_only: settings.persisted_queries_only,
        })
    }

    /// Fills in the document of a request that names one by hash, registers a new one, or
    /// refuses; the error is a coded request error.
    pub fn resolve(&self, request: &mut GqlRequest) -> Result<(), ServerError> {
        let hash = match persisted_hash(request) {
            Ok(hash) => hash,
            Err(message) => return Err(coded(message, BAD_USER_INPUT)),
        };
        let Some(hash) = hash else {
            if self.allow_list_only {
                return Err(coded(
                    "this server runs registered documents only; send extensions.persistedQuery"
                        .into(),
                    REQUIRED,
                ));
            }
            return Ok(());
        };
        let mut documents = self.documents.lock().unwrap_or_else(|e| e.into_inner());
        if request.query.is_empty() {
            return match documents.get(&hash) {
                Some(document) => {
                    request.query = document.to_string();
                    Ok(())
                }
                // Apollo clients look for this message and then send the document.
                None => Err(coded("PersistedQueryNotFound".into(), NOT_FOUND)),
            };
        }
        if crate::tokens::hash(&request.query) != hash {
            return Err(coded(
                "provided sha256Hash does not match the query".into(),
                BAD_USER_INPUT,
            ));
        }
        if self.allow_list_only {
            return match documents.contains_key(&hash) {
                true => Ok(()),
                false => Err(coded(
                    "this document is not registered on this server".into(),
                    REQUIRED,
                )),
            };
        }
        if documents.len() >= CAPACITY
            && !documents.contains_key(&hash)
            && let Some(old) = documents.keys().next().cloned()
        {
            documents.remove(&old);
        }
        documents
            .entry(hash)
            .or_insert_with(|| Arc::from(request.query.as_str()));
        Ok(())
    }
}

/// The lower-case hex hash of `extensions.persistedQuery` (version 1), if the request has one.
fn persisted_hash(request: &GqlRequest) -> Result<Option<String>, String> {
    let Some(persisted) = request.extensions.get("persistedQuery") else {
        return Ok(None);
    };
    let Value::Object(fields) = persisted else {
        return Err("extensions.persistedQuery must be an object".into());
    };
    match fields.get("version") {
        Some(Value::Number(n)) if n.as_u64() == Some(1) => {}
        _ => return Err("extensions.persistedQuery.version must be 1".into()),
    }
    match fields.get("sha256Hash") {
        Some(Value::String(hash))
            if hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()) =>
        {
            Ok(Some(hash.to_ascii_lowercase()))
        }
        _ => Err("extensions.persistedQuery.sha256Hash must be 64 hex digits".into()),
    }
}
