//! A thin layer over the two engines for the projector's few statements:
//! SQL written once with `$n` placeholders (SQLite reads them as `?n`),
//! parameters and columns limited to text and integers.

use kapchart_store::{Database, StoreError};
use sqlx::Row as _;

/// A statement parameter.
#[derive(Debug, Clone)]
pub(crate) enum Param {
    Text(String),
    OptText(Option<String>),
    Int(i64),
}

impl From<&str> for Param {
    fn from(s: &str) -> Self {
        Param::Text(s.to_owned())
    }
}

impl From<String> for Param {
    fn from(s: String) -> Self {
        Param::Text(s)
    }
}

impl From<Option<String>> for Param {
    fn from(s: Option<String>) -> Self {
        Param::OptText(s)
    }
}

impl From<i64> for Param {
    fn from(n: i64) -> Self {
        Param::Int(n)
    }
}

/// A result column's type.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Col {
    Text,
    OptText,
    Int,
}

/// A result cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Cell {
    Text(String),
    Null,
    Int(i64),
}

impl Cell {
    pub(crate) fn text(&self) -> &str {
        match self {
            Cell::Text(s) => s,
            _ => "",
        }
    }

    pub(crate) fn opt_text(&self) -> Option<&str> {
        match self {
            Cell::Text(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn int(&self) -> i64 {
        match self {
            Cell::Int(n) => *n,
            _ => 0,
        }
    }
}

fn sqlite_sql(sql: &str) -> String {
    sql.replace('$', "?")
}

/// A database error as the store classifies it: unavailable (the
/// database did not answer) or a failed query.
fn query_err(e: sqlx::Error) -> StoreError {
    StoreError::query(e)
}

macro_rules! bind_all {
    ($q:expr, $params:expr) => {{
        let mut q = $q;
        for p in $params {
            q = match p {
                Param::Text(s) => q.bind(s.as_str()),
                Param::OptText(s) => q.bind(s.as_deref()),
                Param::Int(n) => q.bind(*n),
            };
        }
        q
    }};
}

macro_rules! decode_row {
    ($row:expr, $cols:expr) => {{
        let mut out = Vec::with_capacity($cols.len());
        for (i, col) in $cols.iter().enumerate() {
            out.push(match col {
                Col::Text => Cell::Text($row.try_get::<String, _>(i).map_err(query_err)?),
                Col::OptText => $row
                    .try_get::<Option<String>, _>(i)
                    .map_err(query_err)?
                    .map_or(Cell::Null, Cell::Text),
                Col::Int => Cell::Int($row.try_get::<i64, _>(i).map_err(query_err)?),
            });
        }
        out
    }};
}

/// A transaction on either engine.
pub(crate) enum Tx {
    Pg(sqlx::Transaction<'static, sqlx::Postgres>),
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
}

impl std::fmt::Debug for Tx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Tx::Pg(_) => "Tx::Pg",
            Tx::Sqlite(_) => "Tx::Sqlite",
        })
    }
}

impl Tx {
    /// Begins a write transaction (SQLite: `BEGIN IMMEDIATE`, the write
    /// lock at once).
    pub(crate) async fn begin(db: &Database) -> Result<Tx, StoreError> {
        Ok(match db {
            Database::Postgres(pool) => Tx::Pg(pool.begin().await.map_err(query_err)?),
            Database::Sqlite(pool) => Tx::Sqlite(
                pool.begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err(query_err)?,
            ),
        })
    }

    pub(crate) async fn execute(&mut self, sql: &str, params: &[Param]) -> Result<u64, StoreError> {
        Ok(match self {
            Tx::Pg(tx) => bind_all!(sqlx::query(sql), params)
                .execute(&mut **tx)
                .await
                .map_err(query_err)?
                .rows_affected(),
            Tx::Sqlite(tx) => {
                let sql = sqlite_sql(sql);
                bind_all!(sqlx::query(&sql), params)
                    .execute(&mut **tx)
                    .await
                    .map_err(query_err)?
                    .rows_affected()
            }
        })
    }

    pub(crate) async fn fetch(
        &mut self,
        sql: &str,
        params: &[Param],
        cols: &[Col],
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        let mut out = Vec::new();
        match self {
            Tx::Pg(tx) => {
                let rows = bind_all!(sqlx::query(sql), params)
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(query_err)?;
                for row in &rows {
                    out.push(decode_row!(row, cols));
                }
            }
            Tx::Sqlite(tx) => {
                let sql = sqlite_sql(sql);
                let rows = bind_all!(sqlx::query(&sql), params)
                    .fetch_all(&mut **tx)
                    .await
                    .map_err(query_err)?;
                for row in &rows {
                    out.push(decode_row!(row, cols));
                }
            }
        }
        Ok(out)
    }

    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Pg(tx) => tx.commit().await,
            Tx::Sqlite(tx) => tx.commit().await,
        }
        .map_err(query_err)
    }
}

/// A query outside a transaction.
pub(crate) async fn fetch(
    db: &Database,
    sql: &str,
    params: &[Param],
    cols: &[Col],
) -> Result<Vec<Vec<Cell>>, StoreError> {
    let mut out = Vec::new();
    match db {
        Database::Postgres(pool) => {
            let rows = bind_all!(sqlx::query(sql), params)
                .fetch_all(pool)
                .await
                .map_err(query_err)?;
            for row in &rows {
                out.push(decode_row!(row, cols));
            }
        }
        Database::Sqlite(pool) => {
            let sql = sqlite_sql(sql);
            let rows = bind_all!(sqlx::query(&sql), params)
                .fetch_all(pool)
                .await
                .map_err(query_err)?;
            for row in &rows {
                out.push(decode_row!(row, cols));
            }
        }
    }
    Ok(out)
}

/// A statement outside a transaction.
pub(crate) async fn execute(db: &Database, sql: &str, params: &[Param]) -> Result<u64, StoreError> {
    Ok(match db {
        Database::Postgres(pool) => bind_all!(sqlx::query(sql), params)
            .execute(pool)
            .await
            .map_err(query_err)?
            .rows_affected(),
        Database::Sqlite(pool) => {
            let sql = sqlite_sql(sql);
            bind_all!(sqlx::query(&sql), params)
                .execute(pool)
                .await
                .map_err(query_err)?
                .rows_affected()
        }
    })
}

/// `($1, $2, …), ($k, …)`: placeholders for `rows` rows of `width`
/// parameters, numbered after `offset`.
pub(crate) fn values_list(rows: usize, width: usize, offset: usize) -> String {
    let mut out = String::with_capacity(rows * width * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..width {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(offset + r * width + c + 1).to_string());
        }
        out.push(')');
    }
    out
}
