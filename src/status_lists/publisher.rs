//! Signed status lists, rendered once per change (SPEC §3.10, DESIGN.md "Status lists").
//!
//! Every fetch reads the list's version (`store::status_lists::state`, one indexed read)
//! so every instance serves the current bits; the rendering (assemble the chunks, zlib,
//! sign, gzip) is cached per list and URI, and re-done only when the version or the
//! domain's `ttl` changed, or when the signed list is older than `ttl`. One task renders
//! a list at a time; the others wait for its result rather than render it again.
//!
//! Compressing 128 KiB at the highest level (the draft's recommendation) takes tens of
//! milliseconds, so each chunk is compressed on its own and kept with the version it
//! was made from (`domain::status_list::deflate_segment`): a re-rendering after a
//! revocation compresses the one or two chunks that changed.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flate2::Compression;
use flate2::write::GzEncoder;

use crate::clock::{Clock, MICROS_PER_SEC};
use crate::domain::status_list::{
    BITS, CHUNK_BITS, CHUNK_BYTES, LIST_SIZE, adler32, deflate_segment, list_uri, lst_from_segments,
};
use crate::oauth::{KeyRing, OAuthError};
use crate::security::Sha256Digest;
use crate::store::Store;
use crate::store::status_lists::{self, Chunk, ListState};
use crate::tokens::jwt::{self, EncodedStatusList, StatusListClaims};

/// One rendering of a list, as served.
#[derive(Debug)]
pub struct Published {
    /// The version of the bits it shows.
    pub version: i64,
    pub ttl_secs: i64,
    /// Unix seconds it was signed at (`iat`).
    pub issued_at: i64,
    pub jwt: String,
    /// The same JWT, gzip-compressed, for clients that accept it.
    pub gzipped: Vec<u8>,
    /// A strong validator of exactly these bytes: it changes whenever the list is re-signed.
    pub etag: String,
}

impl Published {
    /// Whether this rendering still answers for the list in `state` at `now_secs`.
    fn is_current(&self, state: &ListState, now_secs: i64) -> bool {
        self.version >= state.version && self.ttl_secs == state.ttl_secs && now_secs - self.issued_at < self.ttl_secs
    }
}

/// Each list's latest rendering, per URI it was asked for under (the issuer is part of
/// the signed claims, and follows the address a client reached). Bounded by
/// [`MAX_RENDERINGS`]: Host headers are the client's to choose.
type Renderings = Mutex<HashMap<(i64, i64, String), Arc<tokio::sync::Mutex<Option<Arc<Published>>>>>>;

const MAX_RENDERINGS: usize = 1024;

/// A list's parts, compressed, by chunk position: the version of the chunk each was
/// made from (`None`: no chunk yet, all VALID) and its segment.
type Segments = Vec<Option<(Option<i64>, Vec<u8>)>>;

pub struct Publisher {
    store: Store,
    clock: Clock,
    keys: Arc<KeyRing>,
    renderings: Renderings,
    segments: Mutex<HashMap<(i64, i64), Segments>>,
}

impl Publisher {
    pub fn new(store: Store, clock: Clock, keys: Arc<KeyRing>) -> Self {
        Self {
            store,
            clock,
            keys,
            renderings: Mutex::default(),
            segments: Mutex::default(),
        }
    }

    /// The list `list` of the domain in `state`, as `issuer` names it: the cached
    /// rendering if it is current, else a new one.
    pub async fn current(&self, state: ListState, list: i64, issuer: &str) -> Result<Arc<Published>, OAuthError> {
        let uri = list_uri(issuer, list);
        let cell = {
            let mut renderings = self
                .renderings
                .lock()
                .map_err(|_| OAuthError::Internal("status list cache: lock poisoned".into()))?;
            let key = (state.domain_id, list, uri.clone());
            if renderings.len() >= MAX_RENDERINGS && !renderings.contains_key(&key) {
                renderings.clear();
            }
            renderings.entry(key).or_default().clone()
        };
        let mut cached = cell.lock().await;
        let now_secs = self.clock.now() / MICROS_PER_SEC;
        if let Some(published) = cached.as_ref().filter(|p| p.is_current(&state, now_secs)) {
            return Ok(published.clone());
        }
        let published = Arc::new(self.render(state, list, issuer, uri).await?);
        *cached = Some(published.clone());
        Ok(published)
    }

    async fn render(&self, state: ListState, list: i64, issuer: &str, uri: String) -> Result<Published, OAuthError> {
        let domain_id = state.domain_id;
        let (version, chunks) = self
            .store
            .read(move |mut db| Box::pin(async move { status_lists::chunks(&mut db, domain_id, list).await }))
            .await?;
        let key = self.keys.signing_key(&self.store, domain_id).await?;
        let lst = self.lst(domain_id, list, &chunks)?;
        let issued_at = self.clock.now() / MICROS_PER_SEC;
        let claims = StatusListClaims {
            iss: issuer.to_owned(),
            sub: uri,
            iat: issued_at,
            exp: issued_at + 2 * state.ttl_secs,
            ttl: state.ttl_secs,
            status_list: EncodedStatusList { bits: BITS, lst },
        };
        let jwt = jwt::sign_status_list(&claims, &key).map_err(|e| OAuthError::Internal(e.to_string()))?;
        let digest = Sha256Digest::of(jwt.as_bytes());
        Ok(Published {
            version,
            ttl_secs: state.ttl_secs,
            issued_at,
            gzipped: gzip(jwt.as_bytes()),
            etag: format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest.as_bytes()[..18])),
            jwt,
        })
    }
}

impl Publisher {
    /// The list's `lst` from its chunks, compressing only those whose version is not the
    /// one its cached segment was made from.
    fn lst(&self, domain_id: i64, list: i64, chunks: &[Chunk]) -> Result<String, OAuthError> {
        let parts = (LIST_SIZE / CHUNK_BITS) as usize;
        let mut bytes = vec![0u8; parts * CHUNK_BYTES];
        let mut versions = vec![None; parts];
        for chunk in chunks {
            let Some(position) = usize::try_from(chunk.no).ok().filter(|p| *p < parts) else {
                continue;
            };
            let place = &mut bytes[position * CHUNK_BYTES..(position + 1) * CHUNK_BYTES];
            let len = place.len().min(chunk.bits.len());
            place[..len].copy_from_slice(&chunk.bits[..len]);
            versions[position] = Some(chunk.version);
        }
        let mut all = self
            .segments
            .lock()
            .map_err(|_| OAuthError::Internal("status list segments: lock poisoned".into()))?;
        if all.len() >= MAX_RENDERINGS && !all.contains_key(&(domain_id, list)) {
            all.clear();
        }
        let cached = all.entry((domain_id, list)).or_insert_with(|| vec![None; parts]);
        for (position, version) in versions.into_iter().enumerate() {
            if cached[position]
                .as_ref()
                .is_none_or(|(made_from, _)| *made_from != version)
            {
                let part = &bytes[position * CHUNK_BYTES..(position + 1) * CHUNK_BYTES];
                cached[position] = Some((version, deflate_segment(part, position + 1 == parts)));
            }
        }
        let segments = cached.iter().flatten().map(|(_, segment)| segment.as_slice());
        Ok(lst_from_segments(segments, adler32(&bytes)))
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 2 + 32), Compression::default());
    // Writing into a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    encoder.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published(version: i64, ttl_secs: i64, issued_at: i64) -> Published {
        Published {
            version,
            ttl_secs,
            issued_at,
            jwt: String::new(),
            gzipped: Vec::new(),
            etag: String::new(),
        }
    }

    #[test]
    fn a_rendering_is_redone_after_a_change_a_new_ttl_or_ttl_seconds() {
        let state = ListState {
            domain_id: 1,
            ttl_secs: 60,
            version: 5,
        };
        assert!(published(5, 60, 1000).is_current(&state, 1059));
        assert!(!published(5, 60, 1000).is_current(&state, 1060));
        assert!(!published(4, 60, 1000).is_current(&state, 1001));
        assert!(!published(5, 30, 1000).is_current(&state, 1001));
    }
}
