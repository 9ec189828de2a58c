//! The benchmark's data: a domain with its clients made through revokd's own operator
//! code, and tokens written straight into the store in bulk (issuing 10^7 tokens over
//! HTTP would take longer than the whole benchmark may).
//!
//! Every seeded token is an access token of one of the bench clients (`app` unless
//! said otherwise) whose plain text the benchmark can rebuild from a prefix and an
//! index, so requests can present it. A seeding may give its tokens status-list slots
//! (consecutive indices of fresh lists of the bench domain, SPEC §3.10) as issuance
//! would, and may store some of them as already revoked, with their bits set.

mod slots;

use std::ops::Range;
use std::time::Instant;

use anyhow::{Context, bail};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use revokd::admin::{Actor, Admin};
use revokd::clock::{Clock, MICROS_PER_SEC};
use revokd::domain::status_list::LIST_SIZE;
use revokd::domain::{ClientId, ClientSpec, ClientType, DomainName, DomainSettings, GrantType, Scope, Scopes};
use revokd::security::Sha256Digest;
use revokd::store::DatabaseUrl;
use revokd::store::models::NewToken;
use revokd::store::schema::tokens;
use revokd::store::{Store, StoreOptions, clients, domains};
pub use slots::{next_list, verify_bits};

pub const DOMAIN: &str = "bench";
pub const APP: &str = "app";
pub const RESOURCE_SERVER: &str = "rs";
/// Owns the status-list benchmark's 10^6 tokens with slots (and revokes some of them).
pub const BULK_SLOTS: &str = "bulk-slots";
/// Owns as many tokens without slots, for the same bulk revocation without bits.
pub const BULK_PLAIN: &str = "bulk-plain";
/// The operator token every benchmarked server is started with (loopback only).
pub const ADMIN_TOKEN: &str = "bench-operator-token";

/// Makes seeded tokens as long as a real ES256 access JWT (about 340 characters), so
/// requests carry what they would in production.
const PAD: &str = concat!(
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImJlbmNoIiwidHlwIjoiYXQrand0In0.",
    "eyJpc3MiOiJodHRwOi8vMTI3LjAuMC4xOjgwODAvZG9tYWlucy9iZW5jaCIsInN1YiI6ImFwcCIsImNsaWVudF9pZCI6ImFwcCIsInNjb3BlIjoicmVhZCIs",
    "ImlhdCI6MTc2NDAwMDAwMCwiZXhwIjoxNzY0MDAzNjAwLCJqdGkiOiJiZW5jaCJ9.",
    "MEUCIQDa3bW1q2Pz0xVbench9x6yLq0cF1mTzR4nHsK2vJpA8wIgWc7uE5oN3rYtB4kXhZ6sDfGqL1aM0vPiU9jC2eRbTo"
);

/// Tokens whose plain text is `{prefix}{index:010}.{PAD}`.
#[derive(Debug, Clone, Copy)]
pub struct TokenSet {
    pub prefix: &'static str,
}

/// Tokens that are looked up (introspection), one per stored index.
pub const BACKGROUND: TokenSet = TokenSet { prefix: "bg-" };
/// One-use tokens for the revocation runs: each request revokes the next one.
pub const REVOCATION_POOL: TokenSet = TokenSet { prefix: "rv-" };
/// One-use tokens for the revocation runs with and without a policy (`policy.rs`).
pub const POLICY_POOL: TokenSet = TokenSet { prefix: "pp-" };
/// One-use tokens for pgbench's `UPDATE`, so it never touches the other sets.
pub const PGBENCH_POOL: TokenSet = TokenSet { prefix: "pg-" };
/// The status-list benchmark's list: tokens of `bulk-slots`, each with a slot.
pub const LISTED: TokenSet = TokenSet { prefix: "sl-" };
/// The same number of tokens of `bulk-plain`, in no list.
pub const UNLISTED: TokenSet = TokenSet { prefix: "nl-" };

impl TokenSet {
    pub fn text(self, index: u64) -> String {
        format!("{}{index:010}.{PAD}", self.prefix)
    }

    /// The same text in SQL, for PostgreSQL to build and hash itself (`i` is the index).
    fn sql_text(self) -> String {
        format!("'{}' || lpad(i::text, 10, '0') || '.{PAD}'", self.prefix)
    }

    /// The same text in pgbench's script language (`:i` is the index).
    pub fn pgbench_text(self) -> String {
        format!("'{}' || lpad(:i::text, 10, '0') || '.{PAD}'", self.prefix)
    }
}

/// The domain and clients every run uses.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub domain_id: i64,
    pub app_ref: i64,
    pub app_secret: String,
    pub rs_secret: String,
    pub bulk_slots_ref: i64,
    pub bulk_slots_secret: String,
    pub bulk_plain_ref: i64,
}

/// Runs the migrations and creates the domain with its confidential clients: `app`
/// (tokens are issued to it and it revokes them), `rs` (a resource server that
/// introspects), and the owners of the status-list benchmark's tokens.
pub async fn prepare(database: &DatabaseUrl) -> anyhow::Result<Fixture> {
    let store = Store::open(database, &StoreOptions::default()).await?;
    let admin = Admin::new(store.clone(), Clock::system());
    let domain = DomainName::parse(DOMAIN)?;
    let settings = DomainSettings {
        access_token_ttl_secs: 24 * 3600,
        ..DomainSettings::default()
    };
    admin.create_domain(domain.clone(), settings, Actor::cli()).await?;
    let mut secrets = Vec::new();
    for client_id in [APP, RESOURCE_SERVER, BULK_SLOTS, BULK_PLAIN] {
        let grants = vec![GrantType::ClientCredentials];
        let created = admin
            .create_client(
                &domain,
                ClientSpec {
                    client_id: ClientId::parse(client_id)?,
                    client_type: ClientType::Confidential,
                    grant_types: Some(grants),
                    scopes: Scopes::new(vec![Scope::parse("read")?])?,
                    domain_admin: false,
                },
                Actor::cli(),
            )
            .await?;
        let secret = created.client_secret.context("a confidential client has a secret")?;
        secrets.push(secret.expose().to_owned());
    }
    let (domain_id, refs) = store
        .read(|mut db| {
            Box::pin(async move {
                let domain = domains::find_by_name(&mut db, DOMAIN).await?;
                let Some(domain) = domain else { return Ok(None) };
                let mut refs = Vec::new();
                for name in [APP, BULK_SLOTS, BULK_PLAIN] {
                    let Some(client) = clients::find(&mut db, domain.id, name).await? else {
                        return Ok(None);
                    };
                    refs.push(client.id);
                }
                Ok(Some((domain.id, refs)))
            })
        })
        .await?
        .context("the bench domain and its clients were just created")?;
    Ok(Fixture {
        domain_id,
        app_ref: refs[0],
        app_secret: secrets.remove(0),
        rs_secret: secrets.remove(0),
        bulk_slots_ref: refs[1],
        bulk_slots_secret: secrets.remove(0),
        bulk_plain_ref: refs[2],
    })
}

/// What one seeding stores: `set[range]`, as access tokens of `client_ref`.
#[derive(Debug, Clone)]
pub struct Seeding {
    pub set: TokenSet,
    pub range: Range<u64>,
    pub client_ref: i64,
    /// Status-list slots from this list on: token `range.start + j` gets index
    /// `j % LIST_SIZE` of list `first_list + j / LIST_SIZE`, as if issued in that order.
    /// The lists' rows are created with `reserved` past them (so issuance reserves
    /// fresh ranges after them) and their chunks with them. `None`: in no list, like
    /// tokens issued before status lists.
    pub first_list: Option<i64>,
    /// Indices of `set` stored as already revoked (by the benchmark), bits set.
    pub revoked: Vec<u64>,
    /// SQLite: rows stored in index order, as issuance would store them (the order of
    /// their slots), rather than in hash order, the quicker load. (PostgreSQL stores
    /// them in index order either way.)
    pub in_index_order: bool,
}

impl Seeding {
    /// Live tokens of `app`, in no list.
    pub fn plain(set: TokenSet, range: Range<u64>, fixture: &Fixture) -> Self {
        Self {
            set,
            range,
            client_ref: fixture.app_ref,
            first_list: None,
            revoked: Vec::new(),
            in_index_order: false,
        }
    }

    /// The slot of token `index` of the set, if it has one.
    pub fn slot(&self, index: u64) -> Option<(i64, i64)> {
        let first = self.first_list?;
        let j = i64::try_from(index.checked_sub(self.range.start)?).ok()?;
        Some((first + j / LIST_SIZE, j % LIST_SIZE))
    }
}

/// Stores the tokens `set[range]` as live access tokens of `app`, in no list.
pub async fn add_tokens(
    database: &DatabaseUrl,
    fixture: &Fixture,
    set: TokenSet,
    range: Range<u64>,
) -> anyhow::Result<()> {
    add(database, None, fixture, &Seeding::plain(set, range, fixture)).await
}

/// Stores what `seeding` describes: the token rows, then (through `store`, needed for
/// these) the lists and chunks their slots lie in and the revoked ones marked.
pub async fn add(
    database: &DatabaseUrl,
    store: Option<&Store>,
    fixture: &Fixture,
    seeding: &Seeding,
) -> anyhow::Result<()> {
    let range = seeding.range.clone();
    if range.is_empty() {
        return Ok(());
    }
    let started = Instant::now();
    let count = range.end - range.start;
    let now = Clock::system().now();
    let times = (now - 60 * MICROS_PER_SEC, now + 24 * 3600 * MICROS_PER_SEC);
    match database {
        DatabaseUrl::Postgres(url) => seed_postgres(url, fixture, seeding, times).await?,
        DatabaseUrl::Sqlite(path) => {
            let (path, fixture, seeding) = (path.clone(), fixture.clone(), seeding.clone());
            tokio::task::spawn_blocking(move || seed_sqlite(&path, &fixture, &seeding, times)).await??
        }
    }
    if seeding.first_list.is_some() || !seeding.revoked.is_empty() {
        let store = store.context("a seeding with slots or revoked tokens needs the store")?;
        if seeding.first_list.is_some() {
            slots::add_lists(store, fixture, seeding, now).await?;
        }
        slots::mark_revoked(store, fixture, seeding.set, &seeding.revoked, times.0).await?;
    }
    // What the load left in the page cache goes to disk now, not during a measurement.
    let _ = std::process::Command::new("sync").status();
    eprintln!(
        "  seeded {count} {}* tokens{}{} in {:.1} s",
        seeding.set.prefix,
        match (seeding.slot(range.start), seeding.slot(range.end - 1)) {
            (Some((first, _)), Some((last, _))) => format!(" with slots in lists {first}..={last}"),
            _ => String::new(),
        },
        if seeding.revoked.is_empty() {
            String::new()
        } else {
            format!(", {} of them revoked", seeding.revoked.len())
        },
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Rows are inserted in hash order (unless `in_index_order`), so the `(domain_id,
/// token_hash)` index grows at its end instead of splitting pages all over: 10^7 rows in
/// tens of seconds, not minutes.
fn seed_sqlite(
    path: &str,
    fixture: &Fixture,
    seeding: &Seeding,
    (issued_at, expires_at): (i64, i64),
) -> anyhow::Result<()> {
    let (set, range) = (seeding.set, seeding.range.clone());
    let mut conn = SqliteConnection::establish(path)?;
    // Durability of the seed is not what is measured; speed of loading it matters.
    conn.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA synchronous = OFF; PRAGMA cache_size = -1048576;")?;
    let mut hashed: Vec<([u8; 32], u64)> = range
        .map(|i| (*Sha256Digest::of(set.text(i).as_bytes()).as_bytes(), i))
        .collect();
    if !seeding.in_index_order {
        hashed.sort_unstable();
    }
    const ROWS_PER_INSERT: usize = 2000;
    for transaction in hashed.chunks(500_000) {
        conn.transaction(|conn| {
            for rows in transaction.chunks(ROWS_PER_INSERT) {
                let jtis: Vec<String> = rows.iter().map(|(_, i)| format!("{}{i}", set.prefix)).collect();
                let values: Vec<NewToken<'_>> = rows
                    .iter()
                    .zip(&jtis)
                    .map(|((hash, i), jti)| NewToken {
                        domain_id: fixture.domain_id,
                        kind: revokd::domain::revocation::TokenKind::Access,
                        token_hash: hash,
                        jti,
                        family_ref: None,
                        parent_ref: None,
                        client_ref: seeding.client_ref,
                        user_ref: None,
                        consent_ref: None,
                        scopes: "read",
                        issued_at,
                        expires_at,
                        status_list: seeding.slot(*i).map(|(list, _)| list),
                        status_idx: seeding.slot(*i).map(|(_, idx)| idx),
                    })
                    .collect();
                diesel::RunQueryDsl::execute(diesel::insert_into(tokens::table).values(&values), conn)?;
            }
            diesel::QueryResult::Ok(())
        })?;
    }
    conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);")?;
    Ok(())
}

#[derive(QueryableByName)]
struct IndexDefinition {
    #[diesel(sql_type = Text)]
    indexname: String,
    #[diesel(sql_type = Text)]
    indexdef: String,
}

/// PostgreSQL builds and hashes the rows itself (`generate_series`, `sha256`). A big
/// load drops the secondary indexes of `tokens` first and builds them again from the
/// definitions it read, which is several times faster than maintaining them row by
/// row; the schema afterwards is exactly the migrations'.
async fn seed_postgres(
    url: &str,
    fixture: &Fixture,
    seeding: &Seeding,
    (issued_at, expires_at): (i64, i64),
) -> anyhow::Result<()> {
    let (set, range) = (seeding.set, seeding.range.clone());
    let mut conn = AsyncPgConnection::establish(url).await?;
    // The rows reference the bench domain and client, known to exist: skip the
    // per-row foreign key triggers for the load.
    conn.batch_execute("SET session_replication_role = replica; SET maintenance_work_mem = '1GB';")
        .await?;
    let rebuild = range.end - range.start > 1_000_000;
    let indexes: Vec<IndexDefinition> = if rebuild {
        diesel::sql_query(
            "SELECT indexname::text, indexdef FROM pg_indexes \
             WHERE tablename = 'tokens' AND indexname <> 'tokens_pkey'",
        )
        .load(&mut conn)
        .await?
    } else {
        Vec::new()
    };
    for index in &indexes {
        conn.batch_execute(&format!("DROP INDEX {}", index.indexname)).await?;
    }
    // Slots as `Seeding::slot` gives them ($7: the first list or NULL, $8: the range's start).
    let insert = format!(
        "INSERT INTO tokens (domain_id, kind, token_hash, jti, client_ref, scopes, issued_at, expires_at, \
         status_list, status_idx) \
         SELECT $1, 'access', sha256(convert_to({text}, 'UTF8')), '{prefix}' || i, $2, 'read', $3, $4, \
         $7::bigint + (i - $8::bigint) / {LIST_SIZE}, \
         CASE WHEN $7::bigint IS NULL THEN NULL ELSE (i - $8::bigint) % {LIST_SIZE} END \
         FROM generate_series($5::bigint, $6::bigint) AS i",
        text = set.sql_text(),
        prefix = set.prefix,
    );
    let mut from = range.start;
    while from < range.end {
        let to = (from + 1_000_000).min(range.end);
        let first = i64::try_from(from)?;
        let last = i64::try_from(to - 1)?;
        diesel::sql_query(&insert)
            .bind::<BigInt, _>(fixture.domain_id)
            .bind::<BigInt, _>(seeding.client_ref)
            .bind::<BigInt, _>(issued_at)
            .bind::<BigInt, _>(expires_at)
            .bind::<BigInt, _>(first)
            .bind::<BigInt, _>(last)
            .bind::<Nullable<BigInt>, _>(seeding.first_list)
            .bind::<BigInt, _>(i64::try_from(range.start)?)
            .execute(&mut conn)
            .await?;
        from = to;
    }
    for index in &indexes {
        conn.batch_execute(&index.indexdef).await?;
    }
    // What autovacuum does soon after such a load: statistics and the visibility map.
    conn.batch_execute("VACUUM ANALYZE tokens").await?;
    Ok(())
}

/// Counts how many of `set[range]` are still live by the row (not revoked), straight
/// from the store: the check that every revocation the benchmark was told about
/// really happened.
pub async fn count_unrevoked(
    store: &Store,
    fixture: &Fixture,
    set: TokenSet,
    range: Range<u64>,
) -> anyhow::Result<u64> {
    let mut unrevoked = 0u64;
    let domain_id = fixture.domain_id;
    let indexes: Vec<u64> = range.collect();
    for chunk in indexes.chunks(1000) {
        let hashes: Vec<Vec<u8>> = chunk
            .iter()
            .map(|i| Sha256Digest::of(set.text(*i).as_bytes()).as_bytes().to_vec())
            .collect();
        let expected = hashes.len() as i64;
        let (found, live): (i64, i64) = store
            .read(move |mut db| {
                Box::pin(async move {
                    let all = revokd::on_db!(&mut db, |conn| tokens::table
                        .filter(tokens::domain_id.eq(domain_id))
                        .filter(tokens::token_hash.eq_any(&hashes))
                        .count()
                        .get_result::<i64>(conn)
                        .await)?;
                    let live = revokd::on_db!(&mut db, |conn| tokens::table
                        .filter(tokens::domain_id.eq(domain_id))
                        .filter(tokens::token_hash.eq_any(&hashes))
                        .filter(tokens::revoked_at.is_null())
                        .count()
                        .get_result::<i64>(conn)
                        .await)?;
                    Ok((all, live))
                })
            })
            .await?;
        if found != expected {
            bail!("only {found} of {expected} tokens of {}* are stored", set.prefix);
        }
        unrevoked += u64::try_from(live)?;
    }
    Ok(unrevoked)
}
