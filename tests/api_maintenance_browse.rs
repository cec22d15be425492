//! The maintenance chapter's pages, black-box: sizes and bloat of the instance,
//! database, schema and table pages checked against PostgreSQL's own functions,
//! unknown objects (404 naming them), hostile and over-long names, and a schema of
//! 10,000 tables answered and paged. Each test creates its own database on the
//! shared cluster, so the tests run in parallel.

mod common;

use std::time::Instant;

use serde_json::json;

use common::maintenance::*;
use common::*;

#[test]
fn sizes_match_postgresql_at_every_level() {
    let pg = PgCluster::shared();
    let db = create_db(pg, "sizes");
    sized_table(pg, &db, "public", "sized");
    let (agent, session) = logged_in(Agent::start(pg));

    let total = int(pg, &db, "SELECT pg_total_relation_size('sized')");
    let index = int(pg, &db, "SELECT pg_indexes_size('sized')");
    let toast = int(
        pg,
        &db,
        "SELECT pg_total_relation_size(reltoastrelid) FROM pg_class WHERE relname = 'sized'",
    );
    let pkey = int(pg, &db, "SELECT pg_relation_size('sized_pkey')");
    let reltuples: f64 = pg
        .psql(
            &db,
            "SELECT reltuples FROM pg_class WHERE relname = 'sized'",
        )
        .parse()
        .unwrap();
    let db_size = int(pg, &db, "SELECT pg_database_size(current_database())");
    assert!(toast > 8192, "the test table has TOAST data");

    // The table page.
    let t = get_when(
        &agent,
        &format!("/maintenance/{db}/schema/public/table/sized"),
        &session,
        |t| t["last_vacuum"].is_string() && t["last_analyze"].is_string() && t["n_tup_ins"] == 3001,
    );
    assert_eq!(t["total_bytes"], total, "{t}");
    assert_eq!(t["index_bytes"], index);
    assert_eq!(t["toast_bytes"], toast);
    assert_eq!(t["table_bytes"], total - index - toast);
    assert_eq!(
        t["table_bytes"],
        int(pg, &db, "SELECT pg_table_size('sized')") - toast
    );
    assert_eq!(t["row_estimate"].as_f64(), Some(reltuples));
    assert_eq!(reltuples, 3001.0);
    assert_eq!(t["name"], "sized");
    assert_eq!(t["relname"], "sized");
    assert_eq!(t["schemaname"], "public");
    assert_eq!(t["fillfactor"], 100);
    assert_eq!(t["n_live_tup"], 3001);
    assert_eq!(t["n_tup_ins"], 3001);
    assert!(t["relid"].is_string());
    assert!(t["last_analyze"].is_string(), "{t}");
    assert!(t["last_vacuum"].is_string());
    assert!(t["last_autovacuum"].is_null());
    assert!(t["bloat_bytes"].is_f64());
    assert!(t["bloat_size"].is_string());
    assert_eq!(
        t["total_size"],
        pg.psql(
            &db,
            "SELECT pg_size_pretty(pg_total_relation_size('sized'))"
        )
    );
    let idx = &t["indexes"][0];
    assert_eq!(idx["name"], "sized_pkey");
    assert_eq!(idx["indexrelname"], "sized_pkey");
    assert_eq!(idx["tablename"], "sized");
    assert_eq!(idx["total_bytes"], pkey);
    assert_eq!(idx["type"], "btree");
    assert_eq!(idx["indisunique"], true);
    assert_eq!(idx["number_of_columns"], 1);
    assert!(idx["tablespace"].is_null());
    assert_eq!(
        idx["def"],
        "CREATE UNIQUE INDEX sized_pkey ON public.sized USING btree (id)"
    );
    let keys: Vec<&str> = t.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    for key in [
        "analyze_count",
        "autoanalyze_count",
        "autovacuum_count",
        "idx_scan",
        "idx_tup_fetch",
        "n_dead_tup",
        "n_mod_since_analyze",
        "n_tup_del",
        "n_tup_hot_upd",
        "n_tup_upd",
        "seq_scan",
        "seq_tup_read",
        "vacuum_count",
        "index_bloat_bytes",
        "index_bloat_size",
        "index_size",
        "table_size",
        "toast_size",
        "last_autoanalyze",
    ] {
        assert!(keys.contains(&key), "missing {key} in {t}");
    }

    // The schema page.
    let s = get_ok(
        &agent,
        &format!("/maintenance/{db}/schema/public"),
        &session,
    );
    let row = &s["tables"][0];
    assert_eq!(s["tables"].as_array().unwrap().len(), 1, "{s}");
    assert_eq!(row["name"], "sized");
    assert_eq!(row["total_bytes"], total);
    assert_eq!(row["index_bytes"], index);
    assert_eq!(row["toast_bytes"], toast);
    assert_eq!(row["n_indexes"], 1);
    assert!(row["row_estimate"].is_f64());
    assert_eq!(s["total_bytes"], total);
    assert!(s["size"].is_string());
    assert_eq!(s["indexes"][0]["name"], "sized_pkey");
    assert_eq!(s["indexes"][0]["total_bytes"], pkey);

    // The database page.
    let d = get_ok(&agent, &format!("/maintenance/{db}"), &session);
    assert_eq!(d["total_bytes"], db_size);
    let public = row_where(&d["schemas"], "name", "public");
    assert_eq!(public["n_tables"], 1);
    assert_eq!(public["n_indexes"], 1);
    assert_eq!(public["total_bytes"], total);
    assert_eq!(public["tables_bytes"], total - index - toast);
    assert_eq!(public["indexes_bytes"], index);
    assert_eq!(public["toast_bytes"].as_f64(), Some(toast as f64));
    assert!(public["toast_bytes"].is_f64());
    let catalog = row_where(&d["schemas"], "name", "pg_catalog");
    assert!(catalog["n_tables"].as_i64().unwrap() > 50);

    // The instance page.
    let i = get_ok(&agent, "/maintenance", &session);
    let mine = row_where(&i["databases"], "datname", &db);
    assert_eq!(mine["total_bytes"], db_size);
    assert!(mine["n_tables"].is_f64());
    assert!(mine["tables_bloat_bytes"].is_f64());
    let sum: i64 = i["databases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["total_bytes"].as_i64().unwrap())
        .sum();
    assert_eq!(i["instance"]["total_bytes"].as_f64(), Some(sum as f64));

    // The agent key is enough.
    let res = agent.get(&format!("/maintenance/{db}?key={KEY}"));
    assert_eq!(res.status, 200, "{}", res.text());
    // Nothing at all is not.
    assert_eq!(agent.get(&format!("/maintenance/{db}")).status, 406);
}

/// 20,000 rows in a table without autovacuum, three in four deleted.
const THREE_IN_FOUR_ROWS_DELETED: &str =
    "CREATE TABLE b (id int PRIMARY KEY, v text) WITH (autovacuum_enabled = false);\
     INSERT INTO b SELECT g, repeat('y', 100) FROM generate_series(1, 20000) g;\
     DELETE FROM b WHERE id % 4 <> 0;";

#[test]
fn bloat_is_estimated_from_statistics() {
    let pg = PgCluster::shared();
    let db = create_db_with(pg, "bloat", THREE_IN_FOUR_ROWS_DELETED);
    pg.psql(&db, "VACUUM ANALYZE b");
    let (agent, session) = logged_in(Agent::start(pg));
    let t = get_ok(
        &agent,
        &format!("/maintenance/{db}/schema/public/table/b"),
        &session,
    );
    let bloat = t["bloat_bytes"].as_f64().unwrap();
    let table = t["table_bytes"].as_i64().unwrap() as f64;
    // Three rows in four are dead space: the estimate sees most of it.
    assert!(
        bloat > table * 0.5 && bloat < table,
        "{bloat} of {table}: {t}"
    );
    assert!(t["index_bloat_bytes"].as_f64().unwrap() > 0.0, "{t}");
    let s = get_ok(
        &agent,
        &format!("/maintenance/{db}/schema/public"),
        &session,
    );
    assert_eq!(s["tables"][0]["bloat_bytes"].as_f64(), Some(bloat));
}

#[test]
fn unknown_objects_answer_404_naming_them() {
    let pg = PgCluster::shared();
    let db = create_db_with(pg, "unknown", "CREATE TABLE present (id int)");
    let (agent, session) = logged_in(Agent::start(pg));
    let cases = [
        ("/maintenance/no_such_db_m8".to_string(), "no_such_db_m8"),
        (
            "/maintenance/no_such_db_m8/schema/public".to_string(),
            "no_such_db_m8",
        ),
        (
            format!("/maintenance/{db}/schema/nope_schema"),
            "nope_schema",
        ),
        (
            format!("/maintenance/{db}/schema/nope_schema/table/present"),
            "nope_schema",
        ),
        (
            format!("/maintenance/{db}/schema/public/table/nope_table"),
            "nope_table",
        ),
    ];
    for (path, name) in cases {
        let res = agent.get_as(&path, &session);
        assert_eq!(res.status, 404, "{path}: {}", res.text());
        assert!(res.error().contains(name), "{path}: {}", res.error());
    }
    // A bad page parameter is the client's mistake.
    let res = agent.get_as(
        &format!("/maintenance/{db}/schema/public?limit=x"),
        &session,
    );
    assert_eq!(res.status, 406);
    assert_eq!(res.error(), "Parameter 'limit' is malformed.");
    let res = agent.get_as(
        &format!("/maintenance/{db}/schema/public?offset=-1"),
        &session,
    );
    assert_eq!(res.status, 406);
}

#[test]
fn hostile_names_are_browsed_as_names() {
    let pg = PgCluster::shared();
    let db = create_db_with_victim(pg, "names");
    let schema = "we ird\"sch.ema";
    let table = "x; DROP TABLE victim; --";
    let unicode = "tablé ünïcødé/ß";
    sized_table(pg, &db, schema, table);
    sized_table(pg, &db, schema, unicode);
    let (agent, session) = logged_in(Agent::start(pg));

    let s = get_ok(
        &agent,
        &format!("/maintenance/{db}/schema/{}", enc(schema)),
        &session,
    );
    let mut listed = names(&s["tables"]);
    listed.sort();
    assert_eq!(listed, [unicode, table], "{s}");
    for name in [table, unicode] {
        let t = get_ok(
            &agent,
            &format!(
                "/maintenance/{db}/schema/{}/table/{}",
                enc(schema),
                enc(name)
            ),
            &session,
        );
        assert_eq!(t["name"], name);
        assert_eq!(t["schemaname"], schema);
        assert_eq!(t["n_live_tup"], 3001);
    }
    assert_victim_intact(pg, &db);
}

#[test]
fn a_schema_with_ten_thousand_tables_answers_and_pages() {
    let pg = PgCluster::shared();
    let db = create_db(pg, "many");
    // Committed in batches: one transaction would need a lock per table.
    pg.psql(&db, "CREATE SCHEMA s");
    pg.psql(
        &db,
        "DO $$ BEGIN FOR i IN 1..10000 LOOP \
           EXECUTE format('CREATE TABLE s.t%s (id int%s)', lpad(i::text, 5, '0'), \
                          CASE WHEN i % 10 = 0 THEN ' PRIMARY KEY' ELSE '' END); \
           IF i % 1000 = 0 THEN COMMIT; END IF; \
         END LOOP; END $$;",
    );
    let (agent, session) = logged_in(Agent::start(pg));

    let started = Instant::now();
    let s = get_ok(&agent, &format!("/maintenance/{db}/schema/s"), &session);
    let elapsed = started.elapsed();
    assert_eq!(s["tables"].as_array().unwrap().len(), 10000);
    assert_eq!(s["indexes"].as_array().unwrap().len(), 1000);
    assert_eq!(s["tables"][0]["name"], "t00001");
    eprintln!("10,000 tables answered in {elapsed:?}");

    let p = get_ok(
        &agent,
        &format!("/maintenance/{db}/schema/s?limit=100&offset=9950"),
        &session,
    );
    let page = names(&p["tables"]);
    assert_eq!(page.len(), 50);
    assert_eq!(page[0], "t09951");
    assert_eq!(page[49], "t10000");
    assert_eq!(p["indexes"].as_array().unwrap().len(), 5);
    // The schema's total is the whole schema's, whatever the page.
    assert_eq!(p["total_bytes"], s["total_bytes"]);

    let d = get_ok(&agent, &format!("/maintenance/{db}"), &session);
    let row = row_where(&d["schemas"], "name", "s");
    assert_eq!(row["n_tables"], 10000);
    assert_eq!(row["n_indexes"], 1000);
}

/// Found by the fuzzer (.ci/fuzz): a name longer than PostgreSQL's 63 bytes, bound as
/// type `name`, failed with "identifier too long" (500); no object has it: 404.
#[test]
fn names_longer_than_postgresql_allows_are_not_found() {
    let (agent, session) = logged_in(Agent::start(PgCluster::shared()));
    let long = "n".repeat(64);
    let gets = [
        format!("/maintenance/{long}"),
        format!("/maintenance/postgres/schema/{long}"),
        format!("/maintenance/postgres/schema/public/table/{long}"),
    ];
    for path in &gets {
        let res = agent.get_as(path, &session);
        assert_eq!(res.status, 404, "{path}: {}", res.text());
    }
    let posts = [
        format!("/maintenance/{long}/analyze"),
        format!("/maintenance/postgres/schema/{long}/table/t/analyze"),
        format!("/maintenance/postgres/schema/public/table/{long}/vacuum"),
        format!("/maintenance/postgres/schema/public/index/{long}/reindex"),
    ];
    for path in &posts {
        let res = agent.post_as(
            path,
            &session,
            &json!({ "datetime": "2099-01-01T00:00:00Z" }),
        );
        assert_eq!(res.status, 404, "{path}: {}", res.text());
    }
}
