//! Rows of an unexpected type never panic the agent: a column PostgreSQL answers
//! with another type than the agent reads is an error answer naming nothing of the
//! internals (a generic 500, docs/security.md point 10), its log names the column,
//! and the agent goes on serving. The NULL case is in tests/api_security.rs.
//!
//! How a real server comes to answer another type: pg_stat_statements lives in a
//! schema of its database, where a superuser (or an upgrade gone wrong) can replace
//! its function by one with the same name and columns of other types. Here the
//! function the agent reads is replaced by one whose `min_*time` column is text.

mod common;

use common::*;

const DB: &str = "rows_wrong_type";

/// Replaces `public.pg_stat_statements(boolean)` by a function of the same name and
/// columns, but `min_exec_time` (`min_time` before 1.8) as text, wrapping the real
/// one (renamed). Built from the real function's own column list, so that it fits
/// every version of the extension.
const REPLACE_WITH_TEXT_MIN_TIME: &str = r#"
DO $do$
DECLARE
    real regprocedure := 'public.pg_stat_statements(boolean)';
    out_columns text;
    selected text;
BEGIN
    SELECT string_agg(format('%I %s', name, CASE WHEN changed THEN 'text'
                                                 ELSE format_type(type, NULL) END),
                      ', ' ORDER BY i),
           string_agg(CASE WHEN changed THEN quote_ident(name) || '::text'
                           ELSE quote_ident(name) END, ', ' ORDER BY i)
      INTO out_columns, selected
      FROM pg_proc AS p,
           unnest(p.proargnames, p.proargmodes, p.proallargtypes)
               WITH ORDINALITY AS a(name, mode, type, i),
           LATERAL (SELECT name IN ('min_exec_time', 'min_time') AS changed) AS c
     WHERE p.oid = real AND a.mode IN ('o', 't');
    ALTER EXTENSION pg_stat_statements DROP VIEW public.pg_stat_statements;
    DROP VIEW public.pg_stat_statements;
    ALTER EXTENSION pg_stat_statements DROP FUNCTION public.pg_stat_statements(boolean);
    ALTER FUNCTION public.pg_stat_statements(boolean) RENAME TO real_pg_stat_statements;
    EXECUTE format(
        'CREATE FUNCTION public.pg_stat_statements(showtext boolean) '
        'RETURNS TABLE (%s) LANGUAGE sql AS %L',
        out_columns,
        'SELECT ' || selected || ' FROM public.real_pg_stat_statements(showtext)');
END
$do$
"#;

#[test]
fn a_column_of_an_unexpected_type_is_an_error_answer_and_the_agent_lives_on() {
    let pg = PgCluster::shared();
    pg.psql("postgres", &format!("DROP DATABASE IF EXISTS {DB}"));
    pg.psql("postgres", &format!("CREATE DATABASE {DB}"));
    pg.psql(DB, "CREATE EXTENSION pg_stat_statements");
    pg.psql(DB, REPLACE_WITH_TEXT_MIN_TIME);
    // At least one statement to read, whatever the instance ran before.
    pg.psql(DB, "SELECT 1");
    let type_of = pg.psql(
        DB,
        "SELECT pg_typeof(min_exec_time) FROM public.pg_stat_statements(true) LIMIT 1",
    );
    assert_eq!(type_of, "text");

    let agent = Agent::start_with(
        pg,
        AgentSetup {
            extra: format!("[statements]\ndbname = {DB}\n"),
            ..AgentSetup::default()
        },
    );
    let res = agent.get(&format!("/statements?key={KEY}"));
    assert_eq!(res.status, 500, "{}", res.text());
    assert_eq!(
        res.error(),
        "Internal error of the agent; its log has the detail."
    );
    // The log says which column, for the DBA.
    wait_until(
        std::time::Duration::from_secs(5),
        "the error in the log",
        || agent.log().contains("column min_time"),
    );
    let log = agent.log();
    assert!(!log.contains("panicked"), "{log}");
    // Alive, and still answering what needs PostgreSQL.
    assert_eq!(agent.get("/status").status, 200);
    let session = agent.login();
    assert_eq!(agent.get_as("/dashboard", &session).status, 200);
    // Again: the same clear answer, not a stuck stream or a dead agent.
    assert_eq!(agent.get(&format!("/statements?key={KEY}")).status, 500);
}
