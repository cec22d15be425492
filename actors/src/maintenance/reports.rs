//! What the maintenance pages show: sizes and estimated bloat of the instance's
//! databases, of a database's schemas, of a schema's tables and indexes, and one
//! table's statistics. Each query runs in the target database on a dedicated
//! connection that carries the statement and lock timeouts (`PgAccess::connect_to`);
//! names from the request are bind parameters only. Bloat is an estimate from the
//! planner statistics (no scan), so a page stays fast on a big database.
//!
//! The JSON types follow each endpoint's example in the spec (some totals are floats
//! on one page and integers on another); the structs below fix them.

use std::collections::HashMap;

use serde::Serialize;
use tokio_postgres::Client;

use super::pretty::{size_pretty, size_pretty_f};
use crate::error::Error;
use crate::pg_access::PgAccess;
use crate::pg_row::Column;
use crate::pg_supervisor::describe_pg_error;

/// The most rows a list answers when no `limit` is given (and the largest `limit`).
pub const MAX_ROWS: i64 = 50_000;

/// Which part of a long list to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Default for Page {
    fn default() -> Page {
        Page {
            limit: MAX_ROWS,
            offset: 0,
        }
    }
}

// ---------------------------------------------------------------- answers

#[derive(Debug, Clone, Serialize)]
pub struct InstanceReport {
    pub databases: Vec<DatabaseRow>,
    pub instance: InstanceTotal,
}

#[derive(Debug, Clone, Serialize)]
pub struct InstanceTotal {
    pub total_bytes: f64,
    pub total_size: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DatabaseRow {
    pub datname: String,
    pub indexes_bloat_bytes: f64,
    pub indexes_bloat_size: String,
    pub indexes_bytes: f64,
    pub indexes_size: String,
    pub n_indexes: f64,
    pub n_tables: f64,
    pub tables_bloat_bytes: f64,
    pub tables_bloat_size: String,
    pub tables_bytes: f64,
    pub tables_size: String,
    pub toast_bytes: f64,
    pub toast_size: String,
    pub total_bytes: i64,
    pub total_size: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DatabaseReport {
    pub schemas: Vec<SchemaRow>,
    pub total_bytes: i64,
    pub total_size: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SchemaRow {
    pub indexes_bloat_bytes: Option<f64>,
    pub indexes_bloat_size: Option<String>,
    pub indexes_bytes: i64,
    pub indexes_size: Option<String>,
    pub n_indexes: i64,
    pub n_tables: i64,
    pub name: String,
    pub tables_bloat_bytes: f64,
    pub tables_bloat_size: String,
    pub tables_bytes: i64,
    pub tables_size: String,
    pub toast_bytes: f64,
    pub toast_size: String,
    pub total_bytes: i64,
    pub total_size: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SchemaReport {
    pub indexes: Vec<IndexRow>,
    pub size: String,
    pub tables: Vec<TableRow>,
    pub total_bytes: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableRow {
    pub bloat_bytes: f64,
    pub bloat_size: String,
    pub index_bloat_bytes: f64,
    pub index_bloat_size: String,
    pub index_bytes: i64,
    pub index_size: String,
    pub n_indexes: i64,
    pub name: String,
    pub row_estimate: f64,
    pub table_bytes: i64,
    pub table_size: String,
    pub toast_bytes: i64,
    pub toast_size: String,
    pub total_bytes: i64,
    pub total_size: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct IndexRow {
    pub bloat_bytes: f64,
    pub bloat_size: String,
    pub def: String,
    pub idx_tup_fetch: i64,
    pub idx_tup_read: i64,
    pub indexrelname: String,
    pub indisunique: bool,
    pub name: String,
    pub number_of_columns: i64,
    pub scans: i64,
    pub tablename: String,
    pub tablespace: Option<String>,
    pub total_bytes: i64,
    pub total_size: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableReport {
    pub analyze_count: i64,
    pub autoanalyze_count: i64,
    pub autovacuum_count: i64,
    pub bloat_bytes: f64,
    pub bloat_size: String,
    pub fillfactor: i64,
    pub idx_scan: Option<i64>,
    pub idx_tup_fetch: Option<i64>,
    pub index_bloat_bytes: f64,
    pub index_bloat_size: String,
    pub index_bytes: i64,
    pub index_size: String,
    pub indexes: Vec<IndexRow>,
    pub last_analyze: Option<String>,
    pub last_autoanalyze: Option<String>,
    pub last_autovacuum: Option<String>,
    pub last_vacuum: Option<String>,
    pub n_dead_tup: i64,
    pub n_live_tup: i64,
    pub n_mod_since_analyze: i64,
    pub n_tup_del: i64,
    pub n_tup_hot_upd: i64,
    pub n_tup_ins: i64,
    pub n_tup_upd: i64,
    pub name: String,
    pub relid: String,
    pub relname: String,
    pub row_estimate: f64,
    pub schemaname: String,
    pub seq_scan: i64,
    pub seq_tup_read: i64,
    pub table_bytes: i64,
    pub table_size: String,
    pub toast_bytes: i64,
    pub toast_size: String,
    pub total_bytes: i64,
    pub total_size: String,
    pub vacuum_count: i64,
}

// ---------------------------------------------------------------- what the queries give

/// One table of `tables.sql`.
#[derive(Debug, Clone)]
struct TableSize {
    oid: i64,
    schema: String,
    name: String,
    row_estimate: f64,
    total_bytes: i64,
    index_bytes: i64,
    toast_bytes: i64,
    n_indexes: i64,
    fillfactor: i64,
}

impl TableSize {
    /// Main fork, free space map and visibility map: what is neither index nor TOAST.
    fn table_bytes(&self) -> i64 {
        (self.total_bytes - self.index_bytes - self.toast_bytes).max(0)
    }
}

/// Estimated bloat by relation oid, and for indexes the sum by table oid.
#[derive(Debug, Default)]
struct Bloat {
    tables: HashMap<i64, f64>,
    indexes: HashMap<i64, f64>,
    indexes_by_table: HashMap<i64, f64>,
}

impl Bloat {
    fn table(&self, oid: i64) -> f64 {
        self.tables.get(&oid).copied().unwrap_or(0.0)
    }

    fn index(&self, oid: i64) -> f64 {
        self.indexes.get(&oid).copied().unwrap_or(0.0)
    }

    fn of_indexes_of(&self, table_oid: i64) -> f64 {
        self.indexes_by_table
            .get(&table_oid)
            .copied()
            .unwrap_or(0.0)
    }
}

fn query_error<'a>(what: &'a str, db: &'a str) -> impl Fn(tokio_postgres::Error) -> Error + 'a {
    move |e| Error::query(format!("{what} in database {db}"), describe_pg_error(&e))
}

/// A connection to `db`, or NotFound when no such database accepts connections.
pub async fn connect(pg: &PgAccess, db: &str) -> Result<Client, Error> {
    let found = {
        let conn = pg.conn().await?;
        conn.query_opt(
            include_str!("../../sql/maintenance/database_exists.sql"),
            &[&db],
        )
        .await
        .map_err(|e| Error::query("look up the database", describe_pg_error(&e)))?
        .is_some()
    };
    if !found {
        return Err(Error::NotFound(format!("Database '{db}' not found.")));
    }
    pg.connect_to(db).await
}

/// NotFound unless `schema` exists in the connection's database.
pub async fn check_schema(client: &Client, db: &str, schema: &str) -> Result<(), Error> {
    let found = client
        .query_opt(
            include_str!("../../sql/maintenance/schema_exists.sql"),
            &[&schema],
        )
        .await
        .map_err(query_error("look up the schema", db))?;
    match found {
        Some(_) => Ok(()),
        None => Err(Error::NotFound(format!(
            "Schema '{schema}' not found in database '{db}'."
        ))),
    }
}

async fn table_sizes(
    client: &Client,
    db: &str,
    schema: Option<&str>,
    table: Option<&str>,
    page: Page,
) -> Result<Vec<TableSize>, Error> {
    let rows = client
        .query(
            include_str!("../../sql/maintenance/tables.sql"),
            &[&schema, &table, &page.limit, &page.offset],
        )
        .await
        .map_err(query_error("size tables", db))?;
    rows.iter()
        .map(|r| {
            Ok(TableSize {
                oid: r.col("oid")?,
                schema: r.col("schema")?,
                name: r.col("name")?,
                row_estimate: r.col("row_estimate")?,
                total_bytes: r.col("total_bytes")?,
                index_bytes: r.col("index_bytes")?,
                toast_bytes: r.col("toast_bytes")?,
                n_indexes: r.col("n_indexes")?,
                fillfactor: r.col("fillfactor")?,
            })
        })
        .collect()
}

/// Bloat estimates of the tables and their btree indexes. An estimate flagged as
/// not applicable (no statistics yet, `name` columns) counts as no bloat.
async fn bloat(client: &Client, db: &str, oids: &[i64]) -> Result<Bloat, Error> {
    let oids = oids.to_vec();
    let tables = client
        .query(
            concat!(
                include_str!("../../sql/bloat/heap.sql"),
                include_str!("../../sql/maintenance/table_bloat.sql")
            ),
            &[&oids],
        )
        .await
        .map_err(query_error("estimate table bloat", db))?;
    let indexes = client
        .query(
            concat!(
                include_str!("../../sql/bloat/btree.sql"),
                include_str!("../../sql/maintenance/index_bloat.sql")
            ),
            &[&oids],
        )
        .await
        .map_err(query_error("estimate index bloat", db))?;
    let estimate = |r: &tokio_postgres::Row| -> Result<f64, Error> {
        let is_na: Option<bool> = r.col("is_na")?;
        let bytes: Option<f64> = r.col("bloat_bytes")?;
        Ok(match is_na {
            Some(false) => bytes.unwrap_or(0.0).max(0.0),
            _ => 0.0,
        })
    };
    let mut bloat = Bloat::default();
    for r in &tables {
        bloat.tables.insert(r.col("oid")?, estimate(r)?);
    }
    for r in &indexes {
        let value = estimate(r)?;
        bloat.indexes.insert(r.col("oid")?, value);
        *bloat
            .indexes_by_table
            .entry(r.col("table_oid")?)
            .or_insert(0.0) += value;
    }
    Ok(bloat)
}

async fn index_rows(
    client: &Client,
    db: &str,
    oids: &[i64],
    bloat: &Bloat,
) -> Result<Vec<IndexRow>, Error> {
    let oids = oids.to_vec();
    let rows = client
        .query(include_str!("../../sql/maintenance/indexes.sql"), &[&oids])
        .await
        .map_err(query_error("list indexes", db))?;
    rows.iter()
        .map(|r| {
            let name: String = r.col("name")?;
            let total_bytes: i64 = r.col("total_bytes")?;
            let bloat_bytes = bloat.index(r.col("oid")?);
            Ok(IndexRow {
                bloat_bytes,
                bloat_size: size_pretty_f(bloat_bytes),
                def: r.col("def")?,
                idx_tup_fetch: r.col("idx_tup_fetch")?,
                idx_tup_read: r.col("idx_tup_read")?,
                indexrelname: name.clone(),
                indisunique: r.col("indisunique")?,
                name,
                number_of_columns: r.col("number_of_columns")?,
                scans: r.col("scans")?,
                tablename: r.col("tablename")?,
                tablespace: r.col("tablespace")?,
                total_bytes,
                total_size: size_pretty(total_bytes),
                kind: r.col("type")?,
            })
        })
        .collect()
}

fn table_row(t: &TableSize, bloat: &Bloat) -> TableRow {
    let bloat_bytes = bloat.table(t.oid);
    let index_bloat_bytes = bloat.of_indexes_of(t.oid);
    TableRow {
        bloat_bytes,
        bloat_size: size_pretty_f(bloat_bytes),
        index_bloat_bytes,
        index_bloat_size: size_pretty_f(index_bloat_bytes),
        index_bytes: t.index_bytes,
        index_size: size_pretty(t.index_bytes),
        n_indexes: t.n_indexes,
        name: t.name.clone(),
        row_estimate: t.row_estimate,
        table_bytes: t.table_bytes(),
        table_size: size_pretty(t.table_bytes()),
        toast_bytes: t.toast_bytes,
        toast_size: size_pretty(t.toast_bytes),
        total_bytes: t.total_bytes,
        total_size: size_pretty(t.total_bytes),
    }
}

/// Sums over a set of tables (a schema, a database).
#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    n_tables: i64,
    n_indexes: i64,
    tables_bytes: i64,
    indexes_bytes: i64,
    toast_bytes: i64,
    total_bytes: i64,
    tables_bloat: f64,
    indexes_bloat: f64,
}

impl Totals {
    fn add(&mut self, t: &TableSize, bloat: &Bloat) {
        self.n_tables += 1;
        self.n_indexes += t.n_indexes;
        self.tables_bytes += t.table_bytes();
        self.indexes_bytes += t.index_bytes;
        self.toast_bytes += t.toast_bytes;
        self.total_bytes += t.total_bytes;
        self.tables_bloat += bloat.table(t.oid);
        self.indexes_bloat += bloat.of_indexes_of(t.oid);
    }
}

/// Every table of the connection's database with the bloat estimates.
async fn all_tables(client: &Client, db: &str) -> Result<(Vec<TableSize>, Bloat), Error> {
    let tables = table_sizes(client, db, None, None, Page::default()).await?;
    let oids: Vec<i64> = tables.iter().map(|t| t.oid).collect();
    let bloat = bloat(client, db, &oids).await?;
    Ok((tables, bloat))
}

async fn database_size(client: &Client, db: &str) -> Result<i64, Error> {
    let row = client
        .query_one(include_str!("../../sql/maintenance/database_size.sql"), &[])
        .await
        .map_err(query_error("size the database", db))?;
    row.col("total_bytes")
}

// ---------------------------------------------------------------- the pages

/// `GET /maintenance`: one row per database that accepts connections. A database
/// that cannot be read (permissions, dropped meanwhile) is left out and logged.
pub async fn instance(pg: &PgAccess, log: &slog::Logger) -> Result<InstanceReport, Error> {
    let databases: Vec<(String, i64)> = {
        let conn = pg.conn().await?;
        conn.query(include_str!("../../sql/maintenance/databases.sql"), &[])
            .await
            .map_err(|e| Error::query("list databases", describe_pg_error(&e)))?
            .iter()
            .map(|r| Ok((r.col("datname")?, r.col("total_bytes")?)))
            .collect::<Result<_, Error>>()?
    };
    let mut rows = Vec::with_capacity(databases.len());
    for (datname, total_bytes) in databases {
        let totals = async {
            let client = pg.connect_to(&datname).await?;
            let (tables, bloat) = all_tables(&client, &datname).await?;
            let mut totals = Totals::default();
            for t in &tables {
                totals.add(t, &bloat);
            }
            Ok::<Totals, Error>(totals)
        }
        .await;
        let t = match totals {
            Ok(t) => t,
            Err(err) => {
                slog::warn!(log, "maintenance: cannot size a database, left out";
                    "database" => &datname, "error" => %err);
                continue;
            }
        };
        rows.push(DatabaseRow {
            datname,
            indexes_bloat_bytes: t.indexes_bloat,
            indexes_bloat_size: size_pretty_f(t.indexes_bloat),
            indexes_bytes: t.indexes_bytes as f64,
            indexes_size: size_pretty(t.indexes_bytes),
            n_indexes: t.n_indexes as f64,
            n_tables: t.n_tables as f64,
            tables_bloat_bytes: t.tables_bloat,
            tables_bloat_size: size_pretty_f(t.tables_bloat),
            tables_bytes: t.tables_bytes as f64,
            tables_size: size_pretty(t.tables_bytes),
            toast_bytes: t.toast_bytes as f64,
            toast_size: size_pretty(t.toast_bytes),
            total_bytes,
            total_size: size_pretty(total_bytes),
        });
    }
    let total: i64 = rows.iter().map(|r| r.total_bytes).sum();
    Ok(InstanceReport {
        databases: rows,
        instance: InstanceTotal {
            total_bytes: total as f64,
            total_size: size_pretty(total),
        },
    })
}

/// `GET /maintenance/<db>`: one row per schema (those without tables too).
pub async fn database(pg: &PgAccess, db: &str) -> Result<DatabaseReport, Error> {
    let client = connect(pg, db).await?;
    let schemas: Vec<String> = client
        .query(include_str!("../../sql/maintenance/schemas.sql"), &[])
        .await
        .map_err(query_error("list schemas", db))?
        .iter()
        .map(|r| r.col("name"))
        .collect::<Result<_, Error>>()?;
    let (tables, bloat) = all_tables(&client, db).await?;
    let mut by_schema: HashMap<&str, Totals> = HashMap::new();
    for t in &tables {
        by_schema.entry(&t.schema).or_default().add(t, &bloat);
    }
    let total_bytes = database_size(&client, db).await?;
    let schemas = schemas
        .into_iter()
        .map(|name| {
            let t = by_schema.get(name.as_str()).copied().unwrap_or_default();
            // As in the spec's example: index figures are null for a schema
            // without any index.
            let has_indexes = t.n_indexes > 0;
            SchemaRow {
                indexes_bloat_bytes: has_indexes.then_some(t.indexes_bloat),
                indexes_bloat_size: has_indexes.then(|| size_pretty_f(t.indexes_bloat)),
                indexes_bytes: t.indexes_bytes,
                indexes_size: has_indexes.then(|| size_pretty(t.indexes_bytes)),
                n_indexes: t.n_indexes,
                n_tables: t.n_tables,
                name,
                tables_bloat_bytes: t.tables_bloat,
                tables_bloat_size: size_pretty_f(t.tables_bloat),
                tables_bytes: t.tables_bytes,
                tables_size: size_pretty(t.tables_bytes),
                toast_bytes: t.toast_bytes as f64,
                toast_size: size_pretty(t.toast_bytes),
                total_bytes: t.total_bytes,
                total_size: size_pretty(t.total_bytes),
            }
        })
        .collect();
    Ok(DatabaseReport {
        schemas,
        total_bytes,
        total_size: size_pretty(total_bytes),
    })
}

/// `GET /maintenance/<db>/schema/<schema>`: the page's tables (by name) with their
/// indexes; `size` and `total_bytes` are the whole schema's.
pub async fn schema(
    pg: &PgAccess,
    db: &str,
    schema: &str,
    page: Page,
) -> Result<SchemaReport, Error> {
    let client = connect(pg, db).await?;
    check_schema(&client, db, schema).await?;
    let tables = table_sizes(&client, db, Some(schema), None, page).await?;
    let oids: Vec<i64> = tables.iter().map(|t| t.oid).collect();
    let bloat = bloat(&client, db, &oids).await?;
    let indexes = index_rows(&client, db, &oids, &bloat).await?;
    let total_bytes = if page == Page::default() && tables.len() < MAX_ROWS as usize {
        tables.iter().map(|t| t.total_bytes).sum()
    } else {
        // A partial page: the schema's total needs every table.
        client
            .query_one(
                include_str!("../../sql/maintenance/schema_size.sql"),
                &[&schema],
            )
            .await
            .map_err(query_error("size the schema", db))?
            .col("total_bytes")?
    };
    Ok(SchemaReport {
        indexes,
        size: size_pretty(total_bytes),
        tables: tables.iter().map(|t| table_row(t, &bloat)).collect(),
        total_bytes,
    })
}

/// `GET /maintenance/<db>/schema/<schema>/table/<table>`.
pub async fn table(
    pg: &PgAccess,
    db: &str,
    schema: &str,
    table: &str,
) -> Result<TableReport, Error> {
    let client = connect(pg, db).await?;
    check_schema(&client, db, schema).await?;
    let t = table_sizes(&client, db, Some(schema), Some(table), Page::default())
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            Error::NotFound(format!(
                "Table '{table}' not found in schema '{schema}' of database '{db}'."
            ))
        })?;
    let bloat = bloat(&client, db, &[t.oid]).await?;
    let indexes = index_rows(&client, db, &[t.oid], &bloat).await?;
    let s = client
        .query_opt(
            include_str!("../../sql/maintenance/table_stats.sql"),
            &[&t.oid],
        )
        .await
        .map_err(query_error("read table statistics", db))?
        .ok_or_else(|| Error::NotFound(format!("Table '{table}' was dropped meanwhile.")))?;
    let row = table_row(&t, &bloat);
    Ok(TableReport {
        analyze_count: s.col("analyze_count")?,
        autoanalyze_count: s.col("autoanalyze_count")?,
        autovacuum_count: s.col("autovacuum_count")?,
        bloat_bytes: row.bloat_bytes,
        bloat_size: row.bloat_size,
        fillfactor: t.fillfactor,
        idx_scan: s.col("idx_scan")?,
        idx_tup_fetch: s.col("idx_tup_fetch")?,
        index_bloat_bytes: row.index_bloat_bytes,
        index_bloat_size: row.index_bloat_size,
        index_bytes: row.index_bytes,
        index_size: row.index_size,
        indexes,
        last_analyze: s.col("last_analyze")?,
        last_autoanalyze: s.col("last_autoanalyze")?,
        last_autovacuum: s.col("last_autovacuum")?,
        last_vacuum: s.col("last_vacuum")?,
        n_dead_tup: s.col("n_dead_tup")?,
        n_live_tup: s.col("n_live_tup")?,
        n_mod_since_analyze: s.col("n_mod_since_analyze")?,
        n_tup_del: s.col("n_tup_del")?,
        n_tup_hot_upd: s.col("n_tup_hot_upd")?,
        n_tup_ins: s.col("n_tup_ins")?,
        n_tup_upd: s.col("n_tup_upd")?,
        name: t.name.clone(),
        relid: s.col("relid")?,
        relname: s.col("relname")?,
        row_estimate: t.row_estimate,
        schemaname: s.col("schemaname")?,
        seq_scan: s.col("seq_scan")?,
        seq_tup_read: s.col("seq_tup_read")?,
        table_bytes: row.table_bytes,
        table_size: row.table_size,
        toast_bytes: row.toast_bytes,
        toast_size: row.toast_size,
        total_bytes: row.total_bytes,
        total_size: row.total_size,
        vacuum_count: s.col("vacuum_count")?,
    })
}
