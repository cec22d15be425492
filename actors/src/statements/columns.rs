//! Which columns pg_stat_statements has, by extension version, and the snapshot
//! statement assembled for it. The extension's column names changed twice
//! (1.8: `total_time` became `total_exec_time`, ...; 1.11: `blk_read_time` split into
//! `shared_blk_read_time` and `local_blk_read_time`, ...): the `source_*.sql` file of
//! each generation names them as the spec does, and `Naming` tells the JSON encoder
//! which of the server's own names to answer as well.
//!
//! The statement is put together only from SQL files (the template, one source file,
//! one fixed ORDER BY file): nothing from a request is formatted into it.

/// A generation of pg_stat_statements column names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// 1.3 to 1.7 (PostgreSQL 9.5 to 12): the spec's names.
    Legacy,
    /// 1.8 to 1.10 (PostgreSQL 13 to 16): `total_exec_time`, ...
    Exec,
    /// 1.11+ (PostgreSQL 17+): also `shared_blk_read_time`, `local_blk_read_time`, ...
    SharedBlk,
}

impl Naming {
    /// The naming of an installed extension version (`pg_extension.extversion`, e.g.
    /// "1.10"); None for versions this agent cannot read (before 1.3, where
    /// min/max/mean/stddev times did not exist) or an unreadable version text.
    pub fn of_version(extversion: &str) -> Option<Naming> {
        let (major, minor) = extversion.trim().split_once('.')?;
        let version = (major.parse::<u32>().ok()?, minor.parse::<u32>().ok()?);
        match version {
            v if v < (1, 3) => None,
            v if v < (1, 8) => Some(Naming::Legacy),
            v if v < (1, 11) => Some(Naming::Exec),
            _ => Some(Naming::SharedBlk),
        }
    }

    fn source_sql(self) -> &'static str {
        match self {
            Naming::Legacy => include_str!("../../sql/statements/source_legacy.sql"),
            Naming::Exec => include_str!("../../sql/statements/source_exec.sql"),
            Naming::SharedBlk => include_str!("../../sql/statements/source_shared_blk.sql"),
        }
    }

    /// The server's own names of the `*_time` columns, answered next to the spec's.
    pub fn answers_exec_names(self) -> bool {
        self != Naming::Legacy
    }

    /// Whether the server splits I/O times into shared and local blocks.
    pub fn answers_split_io_times(self) -> bool {
        self == Naming::SharedBlk
    }
}

/// The order of `GET /statements?order=`: on the difference since the earlier
/// snapshot with `since`, else on the cumulative counters; descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    TotalTime,
    Calls,
    MeanTime,
}

impl Order {
    /// The `order` query parameter's values.
    pub fn parse(value: &str) -> Option<Order> {
        match value {
            "total_time" => Some(Order::TotalTime),
            "calls" => Some(Order::Calls),
            "mean_time" => Some(Order::MeanTime),
            _ => None,
        }
    }

    fn sql(self) -> &'static str {
        match self {
            Order::TotalTime => include_str!("../../sql/statements/order_total_time.sql"),
            Order::Calls => include_str!("../../sql/statements/order_calls.sql"),
            Order::MeanTime => include_str!("../../sql/statements/order_mean_time.sql"),
        }
    }
}

const TEMPLATE: &str = include_str!("../../sql/statements/snapshot.sql");
// Each mark must appear only where SQL goes, never in a comment of the template.
const SOURCE_MARK: &str = "/*source*/";
const ORDER_MARK: &str = "/*order*/";
const SCHEMA_MARK: &str = "/*schema*/";

/// The snapshot statement for this naming and order (None: the order of
/// pg_stat_statements itself, no sort at all). `schema` is the extension's schema as
/// the server quoted it (`quote_ident`, sql/statements/extension.sql): the function
/// is named with it, since agent connections search pg_catalog only.
pub fn snapshot_sql(naming: Naming, schema: &str, order: Option<Order>) -> String {
    let order_sql = order.map(Order::sql).unwrap_or("").trim_end();
    TEMPLATE
        .replace(SOURCE_MARK, naming.source_sql().trim_end())
        .replace(SCHEMA_MARK, schema)
        .replace(ORDER_MARK, order_sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_map_to_namings() {
        assert_eq!(Naming::of_version("1.2"), None);
        assert_eq!(Naming::of_version("1.3"), Some(Naming::Legacy));
        assert_eq!(Naming::of_version("1.7"), Some(Naming::Legacy));
        assert_eq!(Naming::of_version("1.8"), Some(Naming::Exec));
        assert_eq!(Naming::of_version("1.10"), Some(Naming::Exec));
        assert_eq!(Naming::of_version("1.11"), Some(Naming::SharedBlk));
        assert_eq!(Naming::of_version("1.12"), Some(Naming::SharedBlk));
        assert_eq!(Naming::of_version("2.0"), Some(Naming::SharedBlk));
        assert_eq!(Naming::of_version("banana"), None);
        assert_eq!(Naming::of_version("1"), None);
    }

    #[test]
    fn order_values_are_the_spec_counters() {
        assert_eq!(Order::parse("total_time"), Some(Order::TotalTime));
        assert_eq!(Order::parse("calls"), Some(Order::Calls));
        assert_eq!(Order::parse("mean_time"), Some(Order::MeanTime));
        assert_eq!(Order::parse("rows; DROP TABLE x"), None);
    }

    #[test]
    fn every_mark_is_filled() {
        for naming in [Naming::Legacy, Naming::Exec, Naming::SharedBlk] {
            for order in [
                None,
                Some(Order::TotalTime),
                Some(Order::Calls),
                Some(Order::MeanTime),
            ] {
                let sql = snapshot_sql(naming, "\"my schema\"", order);
                assert!(!sql.contains(SOURCE_MARK) && !sql.contains(ORDER_MARK));
                assert!(!sql.contains(SCHEMA_MARK));
                assert_eq!(
                    sql.matches("FROM \"my schema\".pg_stat_statements(")
                        .count(),
                    1
                );
                assert!(sql.contains("pg_stat_statements($1::boolean)"));
            }
        }
    }
}
