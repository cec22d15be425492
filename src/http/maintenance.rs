//! The maintenance chapter of the API: sizes and bloat of databases, schemas, tables
//! and indexes, and VACUUM / ANALYZE / REINDEX now, at a time or on a cron schedule,
//! with their lists and cancellation. Every endpoint takes a session or the agent key
//! (resolutions.md). Handlers check the input's shape (names, mode, datetime, cron,
//! id) and send one message to the browser or the scheduler; object names are
//! percent-decoded path segments and reach SQL only as bind parameters or quoted
//! identifiers, in the actors.

use actix_web::http::StatusCode;
use actix_web::{guard, web, HttpResponse};
use serde_json::{json, Map, Value};

use super::core::json_object;
use super::error::ApiError;
use super::extract::SessionOrKey;
use super::query::{number, Query};
use super::AppState;
use actors::maintenance::browse::{Page, MAX_ROWS};
use actors::maintenance::browser::{BrowseDatabase, BrowseInstance, BrowseSchema, BrowseTable};
use actors::maintenance::cron_schedule;
use actors::maintenance::maintenance_scheduler::{
    Cancel, GetTask, ListAllTasks, ListTasks, Object, Schedule, When,
};
use actors::maintenance::task::{parse_datetime, parse_mode, valid_id, Operation, VacuumOption};
use actors::sql_quote::valid_name;

/// The operations, as a path segment pattern.
const OP: &str = "{op:vacuum|analyze|reindex}";

/// Resources carry their method as a guard: paths of different methods overlap
/// (`DELETE /maintenance/vacuum/<id>` and `POST /maintenance/<db>/analyze` both
/// match `/maintenance/vacuum/analyze`), and a guarded resource lets the request
/// fall through to the next one.
pub fn routes(cfg: &mut web::ServiceConfig) {
    let get = |path: &str| web::resource(path.replace("{OP}", OP)).guard(guard::Get());
    let post = |path: &str| web::resource(path.replace("{OP}", OP)).guard(guard::Post());
    let delete = |path: &str| web::resource(path.replace("{OP}", OP)).guard(guard::Delete());
    cfg.service(get("/maintenance").to(instance))
        // Before `/maintenance/{db}`: a database named `tasks` is browsed through
        // `/maintenance/tasks` no more (docs/maintenance.md).
        .service(get("/maintenance/tasks").to(tasks))
        .service(get("/maintenance/tasks/{id}").to(task))
        .service(get("/maintenance/{OP}/scheduled").to(list_all))
        // A list, not a task id: 405 rather than the cancel handler's 406.
        .service(delete("/maintenance/{OP}/scheduled").to(method_not_allowed))
        .service(delete("/maintenance/{OP}/{id}").to(cancel))
        .service(get("/maintenance/{db}").to(database))
        .service(post("/maintenance/{db}/{OP}").to(schedule_database))
        .service(get("/maintenance/{db}/{OP}/scheduled").to(list_database))
        .service(get("/maintenance/{db}/schema/{schema}").to(schema))
        .service(get("/maintenance/{db}/schema/{schema}/{OP}/scheduled").to(list_schema))
        .service(get("/maintenance/{db}/schema/{schema}/table/{table}").to(table))
        .service(post("/maintenance/{db}/schema/{schema}/table/{table}/{OP}").to(schedule_table))
        .service(
            get("/maintenance/{db}/schema/{schema}/table/{table}/{OP}/scheduled").to(list_table),
        )
        .service(
            post("/maintenance/{db}/schema/{schema}/index/{index}/reindex").to(schedule_index),
        );
    // The guards above let a request of another method fall through, to the router's
    // 404: answer 405 instead, as the other chapters' resources do.
    for path in [
        "/maintenance",
        "/maintenance/tasks",
        "/maintenance/tasks/{id}",
        "/maintenance/{OP}/scheduled",
        "/maintenance/{OP}/{id}",
        "/maintenance/{db}",
        "/maintenance/{db}/{OP}",
        "/maintenance/{db}/{OP}/scheduled",
        "/maintenance/{db}/schema/{schema}",
        "/maintenance/{db}/schema/{schema}/{OP}/scheduled",
        "/maintenance/{db}/schema/{schema}/table/{table}",
        "/maintenance/{db}/schema/{schema}/table/{table}/{OP}",
        "/maintenance/{db}/schema/{schema}/table/{table}/{OP}/scheduled",
        "/maintenance/{db}/schema/{schema}/index/{index}/reindex",
    ] {
        cfg.service(web::resource(path.replace("{OP}", OP)).to(method_not_allowed));
    }
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::method_not_allowed())
}

/// A name from the path: PostgreSQL refuses empty names and NUL bytes.
fn name(value: String, parameter: &str) -> Result<String, ApiError> {
    if valid_name(&value) {
        Ok(value)
    } else {
        Err(ApiError::malformed(parameter))
    }
}

/// `limit` and `offset` query parameters: non-negative integers; `limit` is capped
/// at `MAX_ROWS`, which is also its default. Given twice, the last one counts.
fn page(query: &Query) -> Result<Page, ApiError> {
    let defaults = Page::default();
    let non_negative = || number(|v: &i64| *v >= 0);
    Ok(Page {
        limit: query
            .last("limit", non_negative())?
            .map_or(defaults.limit, |l| l.min(MAX_ROWS)),
        offset: query
            .last("offset", non_negative())?
            .unwrap_or(defaults.offset),
    })
}

async fn instance(_: SessionOrKey, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let report = state
        .actors
        .maintenance
        .browser
        .send(BrowseInstance)
        .await??;
    Ok(HttpResponse::Ok().json(report))
}

async fn database(
    _: SessionOrKey,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let db = name(path.into_inner(), "dbname")?;
    let report = state
        .actors
        .maintenance
        .browser
        .send(BrowseDatabase { db })
        .await??;
    Ok(HttpResponse::Ok().json(report))
}

async fn schema(
    _: SessionOrKey,
    query: Query,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (db, schema) = path.into_inner();
    let msg = BrowseSchema {
        db: name(db, "dbname")?,
        schema: name(schema, "schema")?,
        page: page(&query)?,
    };
    let report = state.actors.maintenance.browser.send(msg).await??;
    Ok(HttpResponse::Ok().json(report))
}

async fn table(
    _: SessionOrKey,
    path: web::Path<(String, String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (db, schema, table) = path.into_inner();
    let msg = BrowseTable {
        db: name(db, "dbname")?,
        schema: name(schema, "schema")?,
        table: name(table, "table")?,
    };
    let report = state.actors.maintenance.browser.send(msg).await??;
    Ok(HttpResponse::Ok().json(report))
}

fn operation(op: &str) -> Result<Operation, ApiError> {
    // The route's pattern admits only the three names.
    Operation::parse(op).ok_or_else(|| ApiError::malformed("operation"))
}

/// A string field that may be absent or null; any other type is malformed.
fn optional_string<'a>(
    body: &'a Map<String, Value>,
    field: &str,
) -> Result<Option<&'a str>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::malformed(field)),
    }
}

/// The body of an operation request: `mode` (VACUUM only), and `datetime` or
/// `cron` (neither: now). An absent (empty) body is an empty object.
fn operation_body(body: &[u8], op: Operation) -> Result<(Vec<VacuumOption>, When), ApiError> {
    // No body at all is an empty object; anything else must be JSON (a body of
    // whitespace only is not: found by the fuzzer).
    let body = if body.is_empty() {
        Map::new()
    } else {
        json_object(body, "datetime")?
    };
    let mode = match optional_string(&body, "mode")? {
        // ANALYZE and REINDEX have no mode: a mode sent anyway is ignored.
        Some(text) if op == Operation::Vacuum => {
            parse_mode(text).ok_or_else(|| ApiError::malformed("mode"))?
        }
        _ => Vec::new(),
    };
    let datetime = optional_string(&body, "datetime")?;
    let cron = optional_string(&body, "cron")?;
    let when = match (datetime, cron) {
        (Some(_), Some(_)) => {
            return Err(ApiError::new(
                StatusCode::NOT_ACCEPTABLE,
                "Parameters 'datetime' and 'cron' cannot be given together.",
            ))
        }
        (Some(text), None) => {
            When::At(parse_datetime(text).ok_or_else(|| ApiError::malformed("datetime"))?)
        }
        (None, Some(expr)) => {
            cron_schedule::parse(expr).ok_or_else(|| ApiError::malformed("cron"))?;
            When::Cron(expr.trim().to_string())
        }
        (None, None) => When::Now,
    };
    Ok((mode, when))
}

async fn schedule(
    state: &AppState,
    auth: &SessionOrKey,
    op: Operation,
    dbname: String,
    object: Object,
    body: &[u8],
) -> Result<HttpResponse, ApiError> {
    let (mode, when) = operation_body(body, op)?;
    let id = state
        .actors
        .maintenance
        .scheduler
        .send(Schedule {
            operation: op,
            dbname,
            object,
            mode,
            when,
            username: auth.username().to_string(),
        })
        .await??;
    Ok(HttpResponse::Ok().json(json!({ "id": id })))
}

async fn schedule_database(
    auth: SessionOrKey,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (db, op) = path.into_inner();
    let op = operation(&op)?;
    let db = name(db, "dbname")?;
    schedule(&state, &auth, op, db, Object::Database, &body).await
}

async fn schedule_table(
    auth: SessionOrKey,
    path: web::Path<(String, String, String, String)>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (db, schema, table, op) = path.into_inner();
    let op = operation(&op)?;
    let object = Object::Table {
        schema: name(schema, "schema")?,
        table: name(table, "table")?,
    };
    schedule(&state, &auth, op, name(db, "dbname")?, object, &body).await
}

async fn schedule_index(
    auth: SessionOrKey,
    path: web::Path<(String, String, String)>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (db, schema, index) = path.into_inner();
    let object = Object::Index {
        schema: name(schema, "schema")?,
        index: name(index, "index")?,
    };
    schedule(
        &state,
        &auth,
        Operation::Reindex,
        name(db, "dbname")?,
        object,
        &body,
    )
    .await
}

async fn list(state: &AppState, msg: ListTasks) -> Result<HttpResponse, ApiError> {
    let tasks = state.actors.maintenance.scheduler.send(msg).await?;
    Ok(HttpResponse::Ok().json(tasks))
}

async fn list_all(
    _: SessionOrKey,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let msg = ListTasks {
        operation: operation(&path.into_inner())?,
        dbname: None,
        schema: None,
        table: None,
    };
    list(&state, msg).await
}

async fn list_database(
    _: SessionOrKey,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (db, op) = path.into_inner();
    let msg = ListTasks {
        operation: operation(&op)?,
        dbname: Some(db),
        schema: None,
        table: None,
    };
    list(&state, msg).await
}

async fn list_schema(
    _: SessionOrKey,
    path: web::Path<(String, String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (db, schema, op) = path.into_inner();
    let msg = ListTasks {
        operation: operation(&op)?,
        dbname: Some(db),
        schema: Some(schema),
        table: None,
    };
    list(&state, msg).await
}

async fn list_table(
    _: SessionOrKey,
    path: web::Path<(String, String, String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (db, schema, table, op) = path.into_inner();
    let op = operation(&op)?;
    let msg = ListTasks {
        operation: op,
        dbname: Some(db),
        schema: Some(schema),
        // The spec's REINDEX table list is an alias of the schema list.
        table: (op != Operation::Reindex).then_some(table),
    };
    list(&state, msg).await
}

/// `GET /maintenance/tasks`: every task with its details, newest first.
async fn tasks(
    _: SessionOrKey,
    query: Query,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let page = page(&query)?;
    let msg = ListAllTasks {
        limit: usize::try_from(page.limit).unwrap_or(usize::MAX),
        offset: usize::try_from(page.offset).unwrap_or(usize::MAX),
    };
    let tasks = state.actors.maintenance.scheduler.send(msg).await?;
    Ok(HttpResponse::Ok().json(tasks))
}

/// `GET /maintenance/tasks/<id>`: one task with its details.
async fn task(
    _: SessionOrKey,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    if !valid_id(&id) {
        return Err(ApiError::malformed("id"));
    }
    let task = state
        .actors
        .maintenance
        .scheduler
        .send(GetTask { id })
        .await??;
    Ok(HttpResponse::Ok().json(task))
}

async fn cancel(
    auth: SessionOrKey,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (op, id) = path.into_inner();
    let op = operation(&op)?;
    if !valid_id(&id) {
        return Err(ApiError::malformed("id"));
    }
    state
        .actors
        .maintenance
        .scheduler
        .send(Cancel {
            operation: op,
            id,
            username: auth.username().to_string(),
        })
        .await??;
    Ok(HttpResponse::Ok().json(json!({ "response": "ok" })))
}
