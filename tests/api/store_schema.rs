//! `src/store/schema.rs` against the migrated databases: every table diesel knows has
//! the columns the migrations create (names, SQL types, nullability) on SQLite and on
//! PostgreSQL, and every table the migrations create is known to diesel. The expected
//! columns come from the `table!` definitions themselves, so a drift on either side
//! fails here.

use std::collections::BTreeMap;

use diesel::sql_types::{BigInt, Binary, Bool, Nullable, Text};
use diesel::{Column, Expression, Table};
use revokd::store::DatabaseUrl;
use revokd::store::migrations::{self, Direction};
use revokd::store::schema;

use crate::helpers::{drop_postgres_database, fresh_postgres_database, fresh_sqlite, skip_postgres};

/// Column name → (SQL type as the database names it, nullable).
type Columns = BTreeMap<String, (String, bool)>;
/// Table name → its columns.
type Tables = BTreeMap<String, Columns>;

#[derive(Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

/// The one diesel SQL type of a column, as each backend reports it.
trait SqlKind {
    const NULLABLE: bool = false;
    /// (`PRAGMA table_info` type, `information_schema.columns.data_type`). SQLite's STRICT
    /// tables have no BOOLEAN: the migrations store a Bool as INTEGER with a CHECK.
    const NAMES: (&'static str, &'static str);
}

impl SqlKind for BigInt {
    const NAMES: (&'static str, &'static str) = ("INTEGER", "bigint");
}

impl SqlKind for Text {
    const NAMES: (&'static str, &'static str) = ("TEXT", "text");
}

impl SqlKind for Binary {
    const NAMES: (&'static str, &'static str) = ("BLOB", "bytea");
}

impl SqlKind for Bool {
    const NAMES: (&'static str, &'static str) = ("INTEGER", "boolean");
}

impl<T: SqlKind + diesel::sql_types::SqlType> SqlKind for Nullable<T> {
    const NULLABLE: bool = true;
    const NAMES: (&'static str, &'static str) = T::NAMES;
}

/// A tuple of diesel columns (a table's `AllColumns`), described for one backend.
trait DescribeColumns {
    fn describe(backend: Backend) -> Columns;
}

fn describe_column<C>(backend: Backend) -> (String, (String, bool))
where
    C: Column,
    <C as Expression>::SqlType: SqlKind,
{
    let (sqlite, postgres) = <<C as Expression>::SqlType as SqlKind>::NAMES;
    let name = match backend {
        Backend::Sqlite => sqlite,
        Backend::Postgres => postgres,
    };
    (
        C::NAME.to_owned(),
        (name.to_owned(), <<C as Expression>::SqlType as SqlKind>::NULLABLE),
    )
}

macro_rules! describe_tuple {
    ($($column:ident),+) => {
        impl<$($column),+> DescribeColumns for ($($column,)+)
        where
            $($column: Column, <$column as Expression>::SqlType: SqlKind,)+
        {
            fn describe(backend: Backend) -> Columns {
                [$(describe_column::<$column>(backend)),+].into_iter().collect()
            }
        }
    };
}

/// `describe_tuple!` for every arity from the list's length down to one.
macro_rules! describe_tuples {
    ($head:ident) => { describe_tuple!($head); };
    ($head:ident, $($tail:ident),+) => {
        describe_tuple!($head, $($tail),+);
        describe_tuples!($($tail),+);
    };
}

describe_tuples!(
    C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12, C13, C14, C15, C16, C17, C18, C19, C20, C21, C22, C23, C24
);

/// The tables of `schema.rs` as diesel defines them, for one backend.
macro_rules! diesel_tables {
    ($backend:expr; $($table:ident),+ $(,)?) => {{
        let mut tables = Tables::new();
        $(
            tables.insert(
                stringify!($table).to_owned(),
                <<schema::$table::table as Table>::AllColumns as DescribeColumns>::describe($backend),
            );
        )+
        tables
    }};
}

fn expected(backend: Backend) -> Tables {
    let tables = diesel_tables!(backend;
        domains,
        clients,
        users,
        consents,
        signing_keys,
        token_families,
        tokens,
        audit_events,
        revocation_watermarks,
        status_lists,
        status_list_chunks,
        status_list_pending,
        account_sessions,
        revocation_policies,
    );
    // The list above must be every `table!` of schema.rs: a table added there and left
    // out here would go unchecked.
    let source = include_str!("../../src/store/schema.rs");
    let declared: Vec<&str> = source
        .split("diesel::table! {")
        .skip(1)
        .filter_map(|rest| rest.trim_start().split([' ', '(']).next())
        .collect();
    let mut declared_sorted = declared.clone();
    declared_sorted.sort_unstable();
    assert_eq!(
        declared_sorted,
        tables.keys().map(String::as_str).collect::<Vec<_>>(),
        "every table! in src/store/schema.rs is listed in tests/api/store_schema.rs"
    );
    tables
}

/// What the migrated database reports, leaving out diesel's and SQLite's own tables.
fn is_bookkeeping(table: &str) -> bool {
    table == "__diesel_schema_migrations" || table.starts_with("sqlite_")
}

#[derive(diesel::QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    column_type: String,
    #[diesel(sql_type = BigInt)]
    not_null: i64,
    #[diesel(sql_type = BigInt)]
    pk: i64,
}

fn sqlite_tables(path: &str) -> Tables {
    use diesel::{Connection, RunQueryDsl, SqliteConnection};
    let mut conn = SqliteConnection::establish(path).unwrap();
    let rows: Vec<SqliteColumn> = diesel::sql_query(
        "SELECT m.name AS table_name, c.name AS name, upper(c.type) AS column_type, \
                c.\"notnull\" AS not_null, c.pk AS pk \
         FROM sqlite_master AS m, pragma_table_info(m.name) AS c \
         WHERE m.type = 'table'",
    )
    .load(&mut conn)
    .unwrap();
    let mut tables = Tables::new();
    for row in rows.into_iter().filter(|r| !is_bookkeeping(&r.table_name)) {
        // `id INTEGER PRIMARY KEY` is the rowid: never NULL, though not declared NOT NULL.
        let nullable = row.not_null == 0 && row.pk == 0;
        tables
            .entry(row.table_name)
            .or_default()
            .insert(row.name, (row.column_type, nullable));
    }
    tables
}

#[derive(diesel::QueryableByName)]
struct PostgresColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

async fn postgres_tables(url: &str) -> Tables {
    use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    let rows: Vec<PostgresColumn> = diesel::sql_query(
        "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name, \
                c.data_type::text AS data_type, c.is_nullable::text AS is_nullable \
         FROM information_schema.columns AS c \
         JOIN information_schema.tables AS t USING (table_schema, table_name) \
         WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let mut tables = Tables::new();
    for row in rows.into_iter().filter(|r| !is_bookkeeping(&r.table_name)) {
        tables
            .entry(row.table_name)
            .or_default()
            .insert(row.column_name, (row.data_type, row.is_nullable == "YES"));
    }
    tables
}

/// Compares table by table, so a failure names the table that drifted.
fn assert_same(backend: &str, migrated: &Tables, diesel: &Tables) {
    for (table, columns) in diesel {
        let Some(found) = migrated.get(table) else {
            panic!("{backend}: table {table} is in schema.rs but no migration creates it");
        };
        assert_eq!(
            found, columns,
            "{backend}: table {table}: the migrated columns (left) differ from schema.rs (right) as \
             (name -> (SQL type, nullable))"
        );
    }
    let unknown: Vec<&String> = migrated.keys().filter(|t| !diesel.contains_key(*t)).collect();
    assert!(
        unknown.is_empty(),
        "{backend}: migrated tables missing from src/store/schema.rs: {unknown:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_schema_matches_the_migrations() {
    let (url, _file) = fresh_sqlite();
    migrations::run(&url, Direction::Up).await.unwrap();
    let DatabaseUrl::Sqlite(path) = &url else {
        unreachable!("fresh_sqlite gives a SQLite URL")
    };
    assert_same("SQLite", &sqlite_tables(path), &expected(Backend::Sqlite));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_schema_matches_the_migrations() {
    let url = match fresh_postgres_database("schema") {
        Ok(url) => url,
        Err(reason) => return skip_postgres::<()>(&reason).unwrap_or(()),
    };
    migrations::run(&DatabaseUrl::Postgres(url.clone()), Direction::Up)
        .await
        .unwrap();
    let migrated = postgres_tables(&url).await;
    drop_postgres_database(&url);
    assert_same("PostgreSQL", &migrated, &expected(Backend::Postgres));
}
