//! The maintenance chapter of the API: sizes and bloat of databases, schemas, tables
//! and indexes, and VACUUM / ANALYZE / REINDEX now, at a time or on a cron schedule,
//! with their lists and cancellation. Every endpoint takes a session or the agent key
//! (resolutions.md). Handlers check the input's shape (names, mode, datetime, cron,
//! id) and send one message to the browser or the scheduler; object names are
//! percent-decoded path segments and reach SQL only as bind parameters or quoted
//! identifiers, in the actors.

use actix_web::http::StatusCode;
use actix_web::{guard, web, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::core::json_object;
use super::error::{ApiError, Reply};
use super::extract::SessionOrKey;
use super::query::{number, Query};
use super::AppState;
use actors::maintenance::cron_schedule;
use actors::maintenance::maintenance_browser::{
    BrowseDatabase, BrowseInstance, BrowseSchema, BrowseTable, MaintenanceBrowser,
};
use actors::maintenance::maintenance_scheduler::{
    Cancel, GetTask, ListAllTasks, ListTasks, Object, Schedule, When,
};
use actors::maintenance::reports::{Page, MAX_ROWS};
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
        // A list, not a task id: 405 rather than the cancel handler's 406.
        .service(delete("/maintenance/{OP}/scheduled").to(method_not_allowed))
        .service(delete("/maintenance/{OP}/{id}").to(cancel))
        .service(get("/maintenance/{db}").to(database))
        .service(get("/maintenance/{db}/schema/{schema}").to(schema))
        .service(get("/maintenance/{db}/schema/{schema}/table/{table}").to(table));
    // The scheduled tasks of the instance, a database, a schema, a table.
    for resource in [
        get("/maintenance/{OP}/scheduled"),
        get("/maintenance/{db}/{OP}/scheduled"),
        get("/maintenance/{db}/schema/{schema}/{OP}/scheduled"),
        get("/maintenance/{db}/schema/{schema}/table/{table}/{OP}/scheduled"),
    ] {
        cfg.service(resource.to(list));
    }
    // An operation on a database, a table, an index.
    for resource in [
        post("/maintenance/{db}/{OP}"),
        post("/maintenance/{db}/schema/{schema}/table/{table}/{OP}"),
        post("/maintenance/{db}/schema/{schema}/index/{index}/reindex"),
    ] {
        cfg.service(resource.to(schedule));
    }
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

async fn method_not_allowed() -> Reply {
    Err(ApiError::method_not_allowed())
}

/// The segments of a maintenance path, percent-decoded; those a route does not
/// have are None.
#[derive(Debug, Deserialize)]
struct Target {
    db: Option<String>,
    schema: Option<String>,
    table: Option<String>,
    index: Option<String>,
    op: Option<String>,
    id: Option<String>,
}

type Path = web::Path<Target>;
type State = web::Data<AppState>;

/// A name from the path: PostgreSQL refuses empty names and NUL bytes.
fn name(value: Option<String>, parameter: &str) -> Result<String, ApiError> {
    value
        .filter(|v| valid_name(v))
        .ok_or_else(|| ApiError::malformed(parameter))
}

fn operation(op: Option<&str>) -> Result<Operation, ApiError> {
    // The routes' pattern admits only the three names.
    op.and_then(Operation::parse)
        .ok_or_else(|| ApiError::malformed("operation"))
}

fn task_id(id: Option<String>) -> Result<String, ApiError> {
    id.filter(|id| valid_id(id))
        .ok_or_else(|| ApiError::malformed("id"))
}

/// `limit` and `offset` query parameters: non-negative integers; `limit` is capped
/// at `MAX_ROWS`, which is also its default. Given twice: 406.
fn page(query: &Query) -> Result<Page, ApiError> {
    let defaults = Page::default();
    let non_negative = || number(|v: &i64| *v >= 0);
    Ok(Page {
        limit: query
            .once("limit", non_negative())?
            .map_or(defaults.limit, |l| l.min(MAX_ROWS)),
        offset: query
            .once("offset", non_negative())?
            .unwrap_or(defaults.offset),
    })
}

/// Asks the browser for a report and answers it.
async fn browse<M, R>(state: &AppState, msg: M) -> Reply
where
    M: actix::Message<Result = Result<R, actors::Error>> + Send + 'static,
    R: Serialize + Send + 'static,
    MaintenanceBrowser: actix::Handler<M>,
{
    let report = state.actors.maintenance.browser.send(msg).await??;
    Ok(HttpResponse::Ok().json(report))
}

async fn instance(_: SessionOrKey, state: State) -> Reply {
    browse(&state, BrowseInstance).await
}

async fn database(_: SessionOrKey, path: Path, state: State) -> Reply {
    let db = name(path.into_inner().db, "dbname")?;
    browse(&state, BrowseDatabase { db }).await
}

async fn schema(_: SessionOrKey, query: Query, path: Path, state: State) -> Reply {
    let path = path.into_inner();
    let msg = BrowseSchema {
        db: name(path.db, "dbname")?,
        schema: name(path.schema, "schema")?,
        page: page(&query)?,
    };
    browse(&state, msg).await
}

async fn table(_: SessionOrKey, path: Path, state: State) -> Reply {
    let path = path.into_inner();
    let msg = BrowseTable {
        db: name(path.db, "dbname")?,
        schema: name(path.schema, "schema")?,
        table: name(path.table, "table")?,
    };
    browse(&state, msg).await
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

/// VACUUM, ANALYZE or REINDEX of a database, a table or an index (the path says
/// which), now, at a time or on a schedule (the body says when).
async fn schedule(auth: SessionOrKey, path: Path, body: web::Bytes, state: State) -> Reply {
    let path = path.into_inner();
    let op = match path.index {
        // The index route names no operation: REINDEX is an index's only one.
        Some(_) => Operation::Reindex,
        None => operation(path.op.as_deref())?,
    };
    let object = match (path.schema, path.table, path.index) {
        (Some(schema), Some(table), _) => Object::Table {
            schema: name(Some(schema), "schema")?,
            table: name(Some(table), "table")?,
        },
        (schema, None, Some(index)) => Object::Index {
            schema: name(schema, "schema")?,
            index: name(Some(index), "index")?,
        },
        _ => Object::Database,
    };
    let dbname = name(path.db, "dbname")?;
    let (mode, when) = operation_body(&body, op)?;
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

/// The scheduled tasks of an operation, of the whole instance or of what the path
/// names.
async fn list(_: SessionOrKey, path: Path, state: State) -> Reply {
    let path = path.into_inner();
    let op = operation(path.op.as_deref())?;
    let msg = ListTasks {
        operation: op,
        dbname: path.db,
        schema: path.schema,
        // The spec's REINDEX table list is an alias of the schema list.
        table: path.table.filter(|_| op != Operation::Reindex),
    };
    let tasks = state.actors.maintenance.scheduler.send(msg).await?;
    Ok(HttpResponse::Ok().json(tasks))
}

/// `GET /maintenance/tasks`: every task with its details, newest first.
async fn tasks(_: SessionOrKey, query: Query, state: State) -> Reply {
    let page = page(&query)?;
    let msg = ListAllTasks {
        limit: usize::try_from(page.limit).unwrap_or(usize::MAX),
        offset: usize::try_from(page.offset).unwrap_or(usize::MAX),
    };
    let tasks = state.actors.maintenance.scheduler.send(msg).await?;
    Ok(HttpResponse::Ok().json(tasks))
}

/// `GET /maintenance/tasks/<id>`: one task with its details.
async fn task(_: SessionOrKey, path: Path, state: State) -> Reply {
    let id = task_id(path.into_inner().id)?;
    let task = state
        .actors
        .maintenance
        .scheduler
        .send(GetTask { id })
        .await??;
    Ok(HttpResponse::Ok().json(task))
}

async fn cancel(auth: SessionOrKey, path: Path, state: State) -> Reply {
    let path = path.into_inner();
    let msg = Cancel {
        operation: operation(path.op.as_deref())?,
        id: task_id(path.id)?,
        username: auth.username().to_string(),
    };
    state.actors.maintenance.scheduler.send(msg).await??;
    Ok(HttpResponse::Ok().json(json!({ "response": "ok" })))
}
