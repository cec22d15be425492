//! The pgconf chapter of the API: settings by category, changes with ALTER SYSTEM,
//! settings waiting for a restart. Every endpoint needs a login session (the agent
//! key grants nothing here). Handlers check the request's shape and hand the rest
//! (names, values, SQL) to the `SettingsEditor` actor.

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use super::core::json_object;
use super::error::{ApiError, Reply};
use super::extract::Session;
use super::query::Query;
use super::AppState;
use actors::pgconf::settings_editor::{
    ChangeSettings, GetCategories, GetRestartStatus, GetSettings, NewValue, ResetSetting,
};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/pgconf/configuration")
            .route(web::get().to(list))
            .route(web::post().to(change)),
    )
    .service(web::resource("/pgconf/configuration/categories").route(web::get().to(categories)))
    .service(web::resource("/pgconf/configuration/status").route(web::get().to(status)))
    // A tail match: category names hold slashes ("Client Connection Defaults / ...").
    .service(
        web::resource("/pgconf/configuration/category/{name:.*}").route(web::get().to(category)),
    )
    .service(web::resource("/pgconf/configuration/{name}").route(web::delete().to(reset)));
}

/// The `filter` query parameter: none when absent or empty; 406 when given twice.
fn filter(query: &Query) -> Result<Option<String>, ApiError> {
    let value = query.once("filter", |v| Some(v.to_string()))?;
    Ok(value.filter(|v| !v.is_empty()))
}

async fn list(_: Session, query: Query, state: web::Data<AppState>) -> Reply {
    settings(None, &query, &state).await
}

async fn category(
    _: Session,
    query: Query,
    name: web::Path<String>,
    state: web::Data<AppState>,
) -> Reply {
    settings(Some(name.into_inner()), &query, &state).await
}

/// The settings of every category, or of one, grouped by category.
async fn settings(category: Option<String>, query: &Query, state: &AppState) -> Reply {
    let filter = filter(query)?;
    let msg = GetSettings { category, filter };
    let groups = state.actors.pgconf.conf.send(msg).await??;
    Ok(HttpResponse::Ok().json(groups))
}

async fn categories(_: Session, query: Query, state: web::Data<AppState>) -> Reply {
    let msg = GetCategories {
        filter: filter(&query)?,
    };
    let names = state.actors.pgconf.conf.send(msg).await??;
    Ok(HttpResponse::Ok().json(json!({ "categories": names })))
}

async fn status(_: Session, state: web::Data<AppState>) -> Reply {
    let status = state.actors.pgconf.conf.send(GetRestartStatus).await??;
    Ok(HttpResponse::Ok().json(status))
}

/// A value as the client may send it: text, or a JSON number or boolean.
fn value_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "on" } else { "off" }.to_string()),
        _ => None,
    }
}

/// `{"settings": [{"name": ..., "setting": ...}, ...]}`; an empty list is valid
/// and changes nothing (resolutions).
fn parse_items(body: &[u8]) -> Result<Vec<NewValue>, ApiError> {
    let body = json_object(body, "settings")?;
    let items = body
        .get("settings")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::malformed("settings"))?;
    items
        .iter()
        .map(|item| {
            let item = item
                .as_object()
                .ok_or_else(|| ApiError::malformed("settings"))?;
            let name = item
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| ApiError::malformed("name"))?;
            let setting = item
                .get("setting")
                .and_then(value_text)
                .ok_or_else(|| ApiError::malformed("setting"))?;
            Ok(NewValue {
                name: name.to_string(),
                setting,
            })
        })
        .collect()
}

async fn change(session: Session, body: web::Bytes, state: web::Data<AppState>) -> Reply {
    let items = parse_items(&body)?;
    if items.is_empty() {
        // Nothing to write, nothing to reload, nothing to log.
        return Ok(HttpResponse::Ok().json(json!({ "settings": [] })));
    }
    let msg = ChangeSettings {
        username: session.username,
        items,
    };
    let changes = state.actors.pgconf.conf.send(msg).await??;
    Ok(HttpResponse::Ok().json(json!({ "settings": changes })))
}

async fn reset(session: Session, name: web::Path<String>, state: web::Data<AppState>) -> Reply {
    let msg = ResetSetting {
        username: session.username,
        name: name.into_inner(),
    };
    let change = state.actors.pgconf.conf.send(msg).await??;
    Ok(HttpResponse::Ok().json(json!({ "settings": [change] })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_need_a_name_and_a_setting() {
        let items = parse_items(
            br#"{"settings": [{"name": "work_mem", "setting": "8MB"},
                              {"name": "autovacuum", "setting": true},
                              {"name": "max_connections", "setting": 200}]}"#,
        )
        .unwrap();
        let values: Vec<&str> = items.iter().map(|i| i.setting.as_str()).collect();
        assert_eq!(values, ["8MB", "on", "200"]);
        let malformed = |body: &str| parse_items(body.as_bytes()).unwrap_err().message;
        assert_eq!(malformed("{}"), "Parameter 'settings' is malformed.");
        assert!(parse_items(br#"{"settings": []}"#).unwrap().is_empty());
        assert_eq!(
            malformed(r#"{"settings": {"name": "x"}}"#),
            "Parameter 'settings' is malformed."
        );
        assert_eq!(
            malformed(r#"{"settings": ["work_mem"]}"#),
            "Parameter 'settings' is malformed."
        );
        assert_eq!(
            malformed(r#"{"settings": [{"setting": "1"}]}"#),
            "Parameter 'name' is malformed."
        );
        assert_eq!(
            malformed(r#"{"settings": [{"name": "work_mem", "setting": null}]}"#),
            "Parameter 'setting' is malformed."
        );
        assert_eq!(parse_items(b"not json").unwrap_err().status.as_u16(), 400);
    }
}
