//! Resource servers' view of status lists (SPEC §3.10), two ways: this crate's own
//! reader (jsonwebtoken against the JWKS, flate2), and a stock, independently written
//! client, `tests/status-list-client/check.mjs` (jose + @sd-jwt/jwt-status-list), which
//! `.ci/status-list-client` installs and names in `REVOKD_STATUS_LIST_CLIENT`.

use std::io::Read;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::helpers::Server;

/// Where an access token says its status is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slot {
    pub uri: String,
    pub idx: u64,
}

/// The token's `status` claim, read without verifying it (a resource server verifies
/// the token; here only the claim matters).
pub fn slot(jwt: &str) -> Slot {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON");
    let reference = &claims["status"]["status_list"];
    Slot {
        uri: reference["uri"].as_str().expect("status.status_list.uri").to_owned(),
        idx: reference["idx"].as_u64().expect("status.status_list.idx"),
    }
}

/// A fetched list, its signature checked against the domain's JWKS.
pub struct VerifiedList {
    pub header: jsonwebtoken::Header,
    pub claims: Value,
    /// The decompressed bits.
    pub bytes: Vec<u8>,
}

impl VerifiedList {
    pub fn is_invalid(&self, idx: u64) -> bool {
        let byte = self
            .bytes
            .get(usize::try_from(idx / 8).unwrap())
            .expect("lst covers every index handed out");
        byte & (1 << (idx % 8)) != 0
    }
}

/// Verifies a Status List Token with the keys of `jwks`.
pub fn verify(jwt: &str, jwks: &Value) -> VerifiedList {
    let header = jsonwebtoken::decode_header(jwt).expect("a JWS header");
    let kid = header.kid.clone().expect("kid");
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("the kid is in the JWKS");
    let key = DecodingKey::from_jwk(&serde_json::from_value(jwk.clone()).unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::ES256);
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "iat", "iss", "sub"]);
    let claims = jsonwebtoken::decode::<Value>(jwt, &key, &validation)
        .expect("the list verifies against the JWKS")
        .claims;
    let compressed = URL_SAFE_NO_PAD
        .decode(claims["status_list"]["lst"].as_str().expect("lst"))
        .expect("lst is base64url");
    let mut bytes = Vec::new();
    flate2::read::ZlibDecoder::new(compressed.as_slice())
        .read_to_end(&mut bytes)
        .expect("lst is zlib");
    VerifiedList { header, claims, bytes }
}

/// The domain's JWKS from `server`.
pub async fn jwks(server: &Server, domain: &str) -> Value {
    let answer = server.get(&format!("/oauth2/rest/jwks?identityDomain={domain}")).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.body
}

/// Fetches the list at `uri` (as tokens name it) and verifies it.
pub async fn fetch(server: &Server, domain: &str, uri: &str) -> VerifiedList {
    let response = server
        .http
        .get(uri)
        .header("accept", "application/statuslist+jwt")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200, "GET {uri}");
    let jwt = response.text().await.unwrap();
    verify(&jwt, &jwks(server, domain).await)
}

/// Whether each token is INVALID in its list, by this crate's reader.
pub async fn invalid_by_reader(server: &Server, domain: &str, tokens: &[&str]) -> Vec<bool> {
    let mut lists: std::collections::HashMap<String, VerifiedList> = Default::default();
    let mut invalid = Vec::new();
    for token in tokens {
        let slot = slot(token);
        if !lists.contains_key(&slot.uri) {
            let list = fetch(server, domain, &slot.uri).await;
            assert_eq!(list.header.typ.as_deref(), Some("statuslist+jwt"));
            assert_eq!(list.claims["sub"], slot.uri.as_str());
            lists.insert(slot.uri.clone(), list);
        }
        invalid.push(lists[&slot.uri].is_invalid(slot.idx));
    }
    invalid
}

/// The stock client's `check.mjs`: the one `REVOKD_STATUS_LIST_CLIENT` names, or else
/// installed now by `.ci/status-list-client` (npm, into `~/.cache`, once per machine).
/// `None` when neither works (no npm, no registry), said on stderr; under `CI=true` that
/// fails the test instead.
pub fn stock_client() -> Option<String> {
    static CLIENT: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    let found = CLIENT.get_or_init(|| {
        if let Ok(path) = std::env::var("REVOKD_STATUS_LIST_CLIENT") {
            return if std::path::Path::new(&path).is_file() {
                Ok(path)
            } else {
                Err(format!("REVOKD_STATUS_LIST_CLIENT={path} is not a file"))
            };
        }
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/status-list-client");
        match std::process::Command::new(script).output() {
            Ok(out) if out.status.success() => Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned()),
            Ok(out) => Err(format!(
                "{script} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Err(e) => Err(format!("cannot run {script}: {e}")),
        }
    });
    match found {
        Ok(path) => Some(path.clone()),
        Err(why) if std::env::var("CI").is_ok_and(|v| v == "true") => panic!("the stock status list client: {why}"),
        Err(why) => {
            eprintln!("skipping the stock status list client: {why}");
            None
        }
    }
}

/// Whether each token is INVALID, by the stock client (which fetches the lists the
/// tokens name and verifies them against the JWKS of `server`).
pub async fn invalid_by_stock_client(client: &str, server: &Server, domain: &str, tokens: &[&str]) -> Vec<bool> {
    let jwks_url = server.url(&format!("/oauth2/rest/jwks?identityDomain={domain}"));
    let output = tokio::process::Command::new("node")
        .arg(client)
        .arg(jwks_url)
        .args(tokens)
        .output()
        .await
        .expect("node runs");
    assert!(
        output.status.success(),
        "the stock client failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let statuses: Vec<String> = serde_json::from_slice(&output.stdout).expect("a JSON array");
    statuses
        .iter()
        .map(|status| match status.as_str() {
            "VALID" => false,
            "INVALID" => true,
            other => panic!("unexpected status {other}"),
        })
        .collect()
}
