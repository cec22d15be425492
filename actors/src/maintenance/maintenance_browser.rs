//! MaintenanceBrowser: answers the maintenance pages (sizes, bloat, statistics) by
//! running `browse` in the target database. It holds no state beyond the PostgreSQL
//! access and the logger; each request runs as its own future, so a slow page never
//! holds up another. It changes nothing in PostgreSQL.

use actix::prelude::*;

use super::reports::{self, DatabaseReport, InstanceReport, Page, SchemaReport, TableReport};
use crate::error::Error;
use crate::pg_access::PgAccess;

pub struct MaintenanceBrowser {
    pg: PgAccess,
    log: slog::Logger,
}

impl MaintenanceBrowser {
    pub fn new(pg: PgAccess, log: slog::Logger) -> MaintenanceBrowser {
        MaintenanceBrowser { pg, log }
    }
}

impl Actor for MaintenanceBrowser {
    type Context = Context<Self>;
}

/// Sizes of every database.
#[derive(Message)]
#[rtype(result = "Result<InstanceReport, Error>")]
pub struct BrowseInstance;

/// Sizes of every schema of a database.
#[derive(Message)]
#[rtype(result = "Result<DatabaseReport, Error>")]
pub struct BrowseDatabase {
    pub db: String,
}

/// Tables and indexes of a schema.
#[derive(Message)]
#[rtype(result = "Result<SchemaReport, Error>")]
pub struct BrowseSchema {
    pub db: String,
    pub schema: String,
    pub page: Page,
}

/// One table's sizes, statistics and indexes.
#[derive(Message)]
#[rtype(result = "Result<TableReport, Error>")]
pub struct BrowseTable {
    pub db: String,
    pub schema: String,
    pub table: String,
}

impl Handler<BrowseInstance> for MaintenanceBrowser {
    type Result = ResponseFuture<Result<InstanceReport, Error>>;

    fn handle(&mut self, _: BrowseInstance, _: &mut Self::Context) -> Self::Result {
        let pg = self.pg.clone();
        let log = self.log.clone();
        Box::pin(async move { reports::instance(&pg, &log).await })
    }
}

impl Handler<BrowseDatabase> for MaintenanceBrowser {
    type Result = ResponseFuture<Result<DatabaseReport, Error>>;

    fn handle(&mut self, msg: BrowseDatabase, _: &mut Self::Context) -> Self::Result {
        let pg = self.pg.clone();
        Box::pin(async move { reports::database(&pg, &msg.db).await })
    }
}

impl Handler<BrowseSchema> for MaintenanceBrowser {
    type Result = ResponseFuture<Result<SchemaReport, Error>>;

    fn handle(&mut self, msg: BrowseSchema, _: &mut Self::Context) -> Self::Result {
        let pg = self.pg.clone();
        Box::pin(async move { reports::schema(&pg, &msg.db, &msg.schema, msg.page).await })
    }
}

impl Handler<BrowseTable> for MaintenanceBrowser {
    type Result = ResponseFuture<Result<TableReport, Error>>;

    fn handle(&mut self, msg: BrowseTable, _: &mut Self::Context) -> Self::Result {
        let pg = self.pg.clone();
        Box::pin(async move { reports::table(&pg, &msg.db, &msg.schema, &msg.table).await })
    }
}
