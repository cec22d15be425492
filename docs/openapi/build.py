#!/usr/bin/env python3
"""Builds docs/openapi.json, the OpenAPI 3.1 document of the agent's API.

Run from the repository: python3 docs/openapi/build.py

The response schemas are inferred from two sets of answers: the spec's examples
(tests/fixtures/spec/examples.json) and answers captured from a real agent
(docs/openapi/samples.json), the real answer deciding each value's type and the
example filling lists that were empty when captured. Every object the spec shows
gets exactly its keys (`required` + `additionalProperties: false`); the few
objects whose keys are data (CPU models, collector records, server columns of
pg_stat_statements) are declared as maps. Everything else (operations,
parameters, request bodies, statuses) is written below, from docs/*.md.

The document is checked against the routes by tests/api_openapi.rs and fuzzed
by .ci/fuzz (Schemathesis).
"""
import json
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = json.load(open(os.path.join(ROOT, "tests/fixtures/spec/examples.json")))
SAMPLES = {
    k: v["body"]
    for k, v in json.load(open(os.path.join(ROOT, "docs/openapi/samples.json"))).items()
}

ANY = {}
ERROR = {"$ref": "#/components/schemas/Error"}
OPS = ["vacuum", "analyze", "reindex"]
STR_OR_NUM = {"type": ["string", "number", "boolean", "null"]}


def leaf_type(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    return None


def infer(values, nullable):
    """A schema for every value of `values` (all of one place in the answers)."""
    present = [v for v in values if v is not None]
    has_null = len(present) < len(values) or nullable
    if not present:
        return {}
    if all(isinstance(v, dict) for v in present):
        keys = []
        for v in present:
            keys += [k for k in v if k not in keys]
        required = [k for k in keys if all(k in v for v in present)]
        schema = {
            "type": ["object", "null"] if len(present) < len(values) else "object",
            "properties": {
                k: infer([v[k] for v in present if k in v], nullable) for k in sorted(keys)
            },
            "required": sorted(required),
            "additionalProperties": False,
        }
        return schema
    if all(isinstance(v, list) for v in present):
        items = [x for v in present for x in v]
        schema = {"type": ["array", "null"] if len(present) < len(values) else "array"}
        schema["items"] = infer(items, nullable) if items else {}
        return schema
    types = sorted({leaf_type(v) for v in present})
    if has_null:
        types.append("null")
    return {"type": types[0] if len(types) == 1 else types}


def combine(real, example):
    """The real answer's schema, its empty lists filled from the example's."""
    if real == {} or example == {}:
        return real or example
    if "items" in real and "items" in example:
        real = dict(real, items=combine(real["items"], example["items"]))
    if "properties" in real and "properties" in example:
        props = {
            k: combine(s, example["properties"].get(k, {}))
            for k, s in real["properties"].items()
        }
        real = dict(real, properties=props)
    return real


def answer(key, nullable=False, fallback=None):
    """The schema of the 200 answer of `key` ("GET /path" as in the fixtures)."""
    found = [d[key] for d in (SAMPLES, EXAMPLES) if key in d]
    if fallback:
        found += [d[fallback] for d in (SAMPLES, EXAMPLES) if fallback in d]
    if not found:
        raise SystemExit(f"no answer for {key}")
    schemas = [infer([v], nullable) for v in found]
    schema = schemas[0]
    for other in schemas[1:]:
        schema = combine(schema, other)
    return schema


def at(schema, path, replacement):
    """Replaces the sub-schema at `path` (property names, `[]` for items)."""
    if not path:
        return replacement
    head, rest = path[0], path[1:]
    if head == "[]":
        return dict(schema, items=at(schema["items"], rest, replacement))
    props = dict(schema["properties"])
    props[head] = at(props[head], rest, replacement)
    return dict(schema, properties=props)


def obj(props, required=None):
    return {
        "type": "object",
        "properties": props,
        "required": sorted(required if required is not None else props),
        "additionalProperties": False,
    }


def array(items):
    return {"type": "array", "items": items}


# The dashboard data set: the CPU models are a map (model name -> count).
CPU_MODELS = {"type": "object", "additionalProperties": {"type": "number"}}


def dashboard_set(key):
    return at(answer(key), ["cpu_models"], CPU_MODELS)


def statements():
    schema = answer("GET /statements")
    row = schema["properties"]["data"]["items"]
    # Rows carry the spec's keys plus the server's own pg_stat_statements columns,
    # which differ between PostgreSQL versions (resolutions, "Value encodings").
    row = dict(row, additionalProperties={"type": ["string", "number", "boolean", "null"]})
    # `query` is null with `text=false`.
    row["properties"] = {k: dict(v, type=["string", "number", "null"])
                         for k, v in row["properties"].items()}
    spec_keys = set(EXAMPLES["GET /statements"]["data"][0])
    row["required"] = sorted(k for k in row["required"] if k in spec_keys)
    row["properties"] = {k: v for k, v in row["properties"].items() if k in spec_keys}
    return at(schema, ["data", "[]"], row)


def pgconf_row(schema_path, schema):
    """pg_settings values are text, numbers or booleans depending on `vartype`."""
    row = schema
    for p in schema_path:
        row = row["items"] if p == "[]" else row["properties"][p]
    props = dict(row["properties"])
    for k in ("boot_val", "reset_val", "setting", "min_val", "max_val", "enumvals",
              "unit", "setting_raw"):
        if k in props:
            props[k] = {"type": ["string", "number", "boolean", "array", "null"]}
    return at(schema, schema_path, dict(row, properties=props))


def history():
    loose = {"type": "object"}
    return array(obj({
        "datetime": {"type": "string"},
        "version": {"type": "string"},
        # Collector records as 7.x sends them to the UI: one list of rows per probe.
        "data": {"type": "object", "additionalProperties": array({"type": "object"})},
        "hostinfo": loose,
        "instances": array(loose),
    }))


# --- Parameters -----------------------------------------------------------------

def path_param(name, description, schema=None):
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema or {"type": "string"}}


def query(name, description, schema=None):
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


def name(example):
    """A PostgreSQL object name: not empty, no NUL (else 406)."""
    return {"type": "string", "minLength": 1, "pattern": "^[^\\u0000]+$",
            "examples": [example]}


DB = path_param("db", "database name", name("postgres"))
SCHEMA = path_param("schema", "schema name", name("public"))
TABLE = path_param("table", "table name", name("country"))
INDEX = path_param("index", "index name", name("country_pkey"))
TASK_ID = path_param("id", "task id: 8 lowercase hex digits (else 406)",
                     {"type": "string", "pattern": "^[0-9a-f]{8}$", "examples": ["9ce6426b"]})
LIMIT_OFFSET = [
    query("limit", "rows answered at most (capped at 50000)",
          {"type": "integer", "minimum": 0, "maximum": 9223372036854775807}),
    query("offset", "rows skipped", {"type": "integer", "minimum": 0,
                                     "maximum": 9223372036854775807}),
]
# `YYYY-MM-DDTHH:MM:SSZ`, UTC. The pattern is narrower than what is accepted (any
# real time): days 01-28 only, so that every string it admits is a real time.
UTC_TIME = {"type": "string",
            "pattern": "^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])"
                       "T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z$",
            "examples": ["2099-01-01T00:00:00Z"]}

# --- Security -------------------------------------------------------------------

PUBLIC = []
SESSION = [{"session": []}]
SESSION_OR_KEY = [{"session": []}, {"agentKey": []}, {"agentKeyQuery": []}]
METRICS = [{"metricsToken": []}] + SESSION_OR_KEY


def errors(*codes):
    text = {
        400: "the body is not JSON",
        401: "invalid session, key or token",
        403: "the user is read-only",
        404: "unknown object",
        406: "malformed parameter",
        408: "the request body did not arrive within [temboard] body_timeout",
        409: "conflicting action in progress",
        413: "request body too large",
        429: "too many failed logins from this address",
        500: "PostgreSQL is unreachable, or an operation failed on the server",
        504: "PostgreSQL did not answer within [temboard] request_timeout",
    }
    return {str(c): {"description": text[c],
                     "content": {"application/json": {"schema": ERROR}}} for c in codes}


def operation(method, path, tag, summary, security, response, params=(), body=None,
              codes=(), text=False, description=None, body_required=True):
    op = {"tags": [tag], "summary": summary, "operationId": op_id(method, path)}
    if description:
        op["description"] = description
    op["security"] = security
    if params:
        op["parameters"] = list(params)
    if body is not None:
        op["requestBody"] = {"required": body_required,
                             "content": {"application/json": {"schema": body}}}
    all_codes = set(codes)
    if security:
        all_codes |= {401, 406}
    if method != "GET":
        all_codes |= {400, 403, 406, 408, 413}
    if path not in NO_REQUEST_DEADLINE:
        all_codes.add(504)
    content = ({"text/plain": {"schema": {"type": "string"}}} if text
               else {"application/json": {"schema": response}})
    op["responses"] = {"200": {"description": "success", "content": content}}
    op["responses"].update(errors(*sorted(all_codes)))
    return method.lower(), path, op


def op_id(method, path):
    words = re.sub(r"[{}]", "", path).strip("/").replace("/", "_") or "root"
    return f"{method.lower()}_{words}"


# Endpoints that answer without PostgreSQL: no request deadline (src/http/deadline.rs).
NO_REQUEST_DEADLINE = {"/login", "/logout", "/profile", "/status", "/status/postgres",
                       "/notifications", "/openapi.json", "/administration/control"}

PG = 500  # needs PostgreSQL: "PostgreSQL is unreachable" when it is down


def build():
    ops = []
    add = ops.append
    # Core
    add(operation("POST", "/login", "core", "Log in: a session id", PUBLIC,
                  answer("POST /login"),
                  body={"type": "object", "required": ["username", "password"],
                        "properties": {
                            "username": {"type": "string", "pattern": "^[a-z0-9_.-]{3,64}$",
                                         "examples": ["alice"]},
                            # 1 to 72 bytes (bcrypt): 18 characters of up to 4 bytes.
                            "password": {"type": "string", "minLength": 1, "maxLength": 18}}},
                  codes=(404, 429)))
    add(operation("GET", "/logout", "core", "End the session", SESSION, answer("GET /logout")))
    add(operation("GET", "/profile", "core", "The session's user", SESSION,
                  obj({"username": {"type": "string"}, "role": {"enum": ["admin", "read"]}},
                      required=["username"]),
                  params=[query("role", "`true` adds `role`", {"enum": ["true", "false"]})],
                  description="`{\"username\"}`; with `role=true`, `{\"username\", \"role\"}`."))
    add(operation("GET", "/discover", "core", "Host and instance facts", PUBLIC,
                  discover(),
                  codes=(401,),
                  description="PostgreSQL facts are null while it is down. Checks "
                              "`X-TemBoard-Agent-Key` when it is sent."))
    add(operation("GET", "/status", "core", "The agent's process", PUBLIC, answer("GET /status")))
    add(operation("GET", "/status/postgres", "core", "The instance's state", PUBLIC,
                  obj({"state": {"enum": ["up", "down", "starting", "stopping", "unknown"]},
                       "since": {"type": "string"}})))
    add(operation("GET", "/notifications", "core", "The notification log", SESSION_OR_KEY,
                  answer("GET /notifications")))
    add(operation("GET", "/openapi.json", "core", "This document", PUBLIC, {"type": "object"}))
    # Administration
    add(operation("POST", "/administration/control", "administration",
                  "Start, stop, restart or reload PostgreSQL", SESSION,
                  obj({"action": {"enum": ["start", "stop", "restart", "reload"]},
                       "state": {"const": "ok"}}),
                  body={"type": "object", "required": ["action"],
                        "properties": {"action": {"enum": ["start", "stop", "restart", "reload"]}}},
                  codes=(409, 500)))
    add(operation("GET", "/administration/pg_version", "administration", "PostgreSQL's version",
                  SESSION, obj({"numeric": {"type": "integer"}, "full": {"type": "string"}}),
                  codes=(PG,)))
    # Activity
    filters = [query("limit", "rows at most", {"type": "integer", "minimum": 1,
                                               "maximum": 5000}),
               query("min_duration", "seconds", {"type": "number", "minimum": 0}),
               query("dbname", "database", name("postgres")),
               query("user", "role name", name("postgres"))]
    waiting = answer("GET /activity/waiting", nullable=True)
    for path, key in (("/activity", "GET /activity"), ("/activity/waiting", None),
                      ("/activity/blocking", None)):
        schema = answer(key, nullable=True) if key else waiting
        schema = at(schema, ["rows", "[]", "duration"], {"type": ["number", "string", "null"]})
        add(operation("GET", path, "activity", f"Backends ({path})", SESSION_OR_KEY, schema,
                      params=filters, codes=(PG,)))
    pids = {"type": "object", "required": ["pids"],
            "properties": {"pids": {"type": "array", "maxItems": 1000, "items": {
                "type": "integer", "minimum": 1, "maximum": 2147483647}}}}
    for path, word in (("/activity/kill", "killed"), ("/activity/cancel", "cancelled")):
        add(operation("POST", path, "activity", f"Signal backends ({word})", SESSION,
                      obj({"backends": array(obj({"pid": {"type": "integer"},
                                                  word: {"type": "boolean"}}))}),
                      body=pids, codes=(PG,)))
    # Dashboard
    for key in ("GET /dashboard", "GET /dashboard/live"):
        add(operation("GET", key[4:], "dashboard", "The dashboard data set", SESSION_OR_KEY,
                      dashboard_set(key), codes=(PG,)))
    add(operation("GET", "/dashboard/history", "dashboard", "Recent dashboard data sets",
                  SESSION_OR_KEY, at(answer("GET /dashboard/history"), ["[]", "cpu_models"],
                                     CPU_MODELS), codes=(PG,)))
    add(operation("GET", "/dashboard/config", "dashboard", "Sampling settings", SESSION_OR_KEY,
                  answer("GET /dashboard/config")))
    for metric in ("buffers", "hitratio", "active_backends", "cpu", "loadaverage", "memory",
                 "hostname", "os_version", "pg_version", "n_cpu", "databases", "info",
                 "max_connections"):
        add(operation("GET", f"/dashboard/{metric}", "dashboard", f"Dashboard: {metric}",
                      SESSION_OR_KEY, answer(f"GET /dashboard/{metric}"), codes=(PG,)))
    # Monitoring
    add(operation("GET", "/monitoring/probe/{name}", "monitoring", "Run one probe",
                  SESSION_OR_KEY, probe_schema(),
                  params=[path_param("name", "probe name",
                                     {"type": "string", "examples": ["sessions"]})],
                  codes=(404, PG),
                  description="`{\"<name>\": [rows]}`; the rows of each probe are in "
                              "docs/monitoring-probes.md."))
    add(operation("GET", "/monitoring/history", "monitoring", "Collector records",
                  SESSION_OR_KEY, history(),
                  params=[query("start", "UTC YYYY-MM-DDTHH:MM:SSZ", UTC_TIME),
                          query("limit", "records", {"type": "integer", "minimum": 1,
                                                     "maximum": 10000})]))
    add(operation("GET", "/monitoring/config", "monitoring", "Collector settings",
                  SESSION_OR_KEY, answer("GET /monitoring/config")))
    add(operation("GET", "/metrics", "monitoring", "Prometheus text exposition", METRICS, None,
                  text=True))
    # Pgconf
    conf = pgconf_row(["[]", "rows", "[]"], answer("GET /pgconf/configuration", nullable=True))
    add(operation("GET", "/pgconf/configuration", "pgconf", "Settings by category", SESSION, conf,
                  params=[query("filter", "substring of the name or description")],
                  codes=(PG,)))
    change = answer("POST /pgconf/configuration", nullable=True)
    change = pgconf_row(["settings", "[]"], change)
    add(operation("POST", "/pgconf/configuration", "pgconf", "ALTER SYSTEM, all or none",
                  SESSION, change,
                  body={"type": "object", "required": ["settings"],
                        "properties": {"settings": array({
                            "type": "object", "required": ["name", "setting"],
                            "properties": {"name": {"type": "string", "minLength": 1},
                                           "setting": {"type": ["string", "number", "boolean"]}}})},
                        "examples": [{"settings": [{"name": "autovacuum", "setting": "on"}]}]},
                  codes=(404, PG)))
    add(operation("DELETE", "/pgconf/configuration/{name}", "pgconf", "ALTER SYSTEM RESET",
                  SESSION, change,
                  params=[path_param("name", "setting", {"type": "string",
                                                         "examples": ["autovacuum"]})],
                  codes=(404, PG)))
    add(operation("GET", "/pgconf/configuration/categories", "pgconf", "Category names",
                  SESSION, answer("GET /pgconf/configuration/categories"), codes=(PG,)))
    add(operation("GET", "/pgconf/configuration/category/{name}", "pgconf", "One category",
                  SESSION, pgconf_row(["[]", "rows", "[]"],
                                      answer("GET /pgconf/configuration/category/Autovacuum",
                                             nullable=True)),
                  params=[path_param("name", "category", {"type": "string",
                                                          "examples": ["Autovacuum"]})],
                  codes=(404, PG)))
    add(operation("GET", "/pgconf/configuration/status", "pgconf", "Changes pending a restart",
                  SESSION, pgconf_row(["restart_changes", "[]"],
                                      answer("GET /pgconf/configuration/status", nullable=True)),
                  codes=(PG,)))
    # Maintenance
    m = "maintenance"
    task = answer("GET /maintenance/vacuum/scheduled", nullable=True,
                  fallback="GET /maintenance/postgres/reindex/scheduled")
    listing = dict(task)
    tasks = answer("GET /maintenance/tasks", nullable=True)
    add(operation("GET", "/maintenance", m, "Databases and sizes", SESSION_OR_KEY,
                  answer("GET /maintenance", nullable=True), codes=(PG,)))
    add(operation("GET", "/maintenance/tasks", m, "Every task, with its details", SESSION_OR_KEY,
                  tasks, params=LIMIT_OFFSET))
    add(operation("GET", "/maintenance/tasks/{id}", m, "One task", SESSION_OR_KEY,
                  tasks["items"], params=[TASK_ID], codes=(404,)))
    add(operation("GET", "/maintenance/{db}", m, "A database's schemas", SESSION_OR_KEY,
                  answer("GET /maintenance/postgres", nullable=True), params=[DB], codes=(404, PG)))
    add(operation("GET", "/maintenance/{db}/schema/{schema}", m, "A schema's tables and indexes",
                  SESSION_OR_KEY, answer("GET /maintenance/postgres/schema/public", nullable=True),
                  params=[DB, SCHEMA] + LIMIT_OFFSET, codes=(404, PG)))
    add(operation("GET", "/maintenance/{db}/schema/{schema}/table/{table}", m, "A table",
                  SESSION_OR_KEY,
                  answer("GET /maintenance/postgres/schema/public/table/country", nullable=True),
                  params=[DB, SCHEMA, TABLE], codes=(404, PG)))
    schedule_body = {
        "type": "object",
        "properties": {
            "datetime": dict(UTC_TIME, type=["string", "null"]),
            # Any 5-field crontab expression that fires is accepted; the pattern
            # admits a daily subset.
            "cron": {"type": ["string", "null"],
                     "pattern": "^([0-5]?[0-9]|\\*) ([01]?[0-9]|2[0-3]|\\*) \\* \\* \\*$",
                     "examples": ["0 3 * * *"]},
            "mode": {"type": ["string", "null"],
                     "pattern": "^((full|freeze|analyze)(,(full|freeze|analyze))*)?$",
                     "examples": ["full,analyze"]}},
        # Not both (406); `false` rather than `not`, which Schemathesis 4.32 trips over.
        "dependentSchemas": {"datetime": {"properties": {"cron": False}}},
    }
    # ANALYZE and REINDEX have no mode: one sent anyway is ignored, whatever it is.
    other_body = json.loads(json.dumps(schedule_body))
    other_body["properties"]["mode"] = {"type": ["string", "null"], "description": "ignored"}
    bodies = {"vacuum": schedule_body, "analyze": other_body, "reindex": other_body}
    scheduled = answer("POST /maintenance/postgres/vacuum")
    cancelled = answer("DELETE /maintenance/vacuum/9ce6426b")
    for op in OPS:
        add(operation("GET", f"/maintenance/{op}/scheduled", m, f"Every scheduled {op}",
                      SESSION_OR_KEY, listing))
        add(operation("DELETE", f"/maintenance/{op}/{{id}}", m, f"Cancel a {op}", SESSION_OR_KEY,
                      cancelled, params=[TASK_ID], codes=(404, 409)))
        add(operation("POST", f"/maintenance/{{db}}/{op}", m, f"Schedule a database {op}",
                      SESSION_OR_KEY, scheduled, params=[DB], body=bodies[op], body_required=False,
                      codes=(404, 409, PG)))
        add(operation("GET", f"/maintenance/{{db}}/{op}/scheduled", m,
                      f"A database's scheduled {op}", SESSION_OR_KEY, listing, params=[DB],
                      codes=(404, PG)))
        add(operation("GET", f"/maintenance/{{db}}/schema/{{schema}}/{op}/scheduled", m,
                      f"A schema's scheduled {op}", SESSION_OR_KEY, listing, params=[DB, SCHEMA],
                      codes=(404, PG)))
        add(operation("POST", f"/maintenance/{{db}}/schema/{{schema}}/table/{{table}}/{op}", m,
                      f"Schedule a table {op}", SESSION_OR_KEY, scheduled,
                      params=[DB, SCHEMA, TABLE], body=bodies[op], body_required=False,
                      codes=(404, 409, PG)))
        add(operation("GET",
                      f"/maintenance/{{db}}/schema/{{schema}}/table/{{table}}/{op}/scheduled", m,
                      f"A table's scheduled {op}", SESSION_OR_KEY, listing,
                      params=[DB, SCHEMA, TABLE], codes=(404, PG)))
    add(operation("POST", "/maintenance/{db}/schema/{schema}/index/{index}/reindex", m,
                  "Schedule an index reindex", SESSION_OR_KEY, scheduled,
                  params=[DB, SCHEMA, INDEX], body=other_body, body_required=False,
                  codes=(404, 409, PG)))
    # Statements
    add(operation("GET", "/statements", "statements", "pg_stat_statements", SESSION_OR_KEY,
                  statements(),
                  params=[query("limit", "rows", {"type": "integer", "minimum": 1,
                                                  "maximum": 18446744073709551615}),
                          query("order", "sort order",
                                {"enum": ["total_time", "calls", "mean_time"]}),
                          query("text", "query texts (false: `query` is null)",
                                {"type": "string",
                                 "pattern": "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0)$"}),
                          query("since", "a snapshot_datetime answered earlier",
                                {"type": "string",
                                 "pattern": "^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8]) "
                                            "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
                                            "(\\.[0-9]{1,6})?[+-](0[0-9]|1[0-2])(:?[0-5][0-9])?$",
                                 "examples": ["2026-12-03 07:00:00.123456+00:00"]})],
                  codes=(404, PG)))

    # The web console (`[console] enabled`): static files, no authentication (the
    # pages log in through /login like any client).
    for path, summary in (("/console", "The web console"), ("/console/", "The web console"),
                          ("/console/{path}", "A file of the web console")):
        types = (["text/html"] if path != "/console/{path}" else
                 ["text/html", "text/css", "text/javascript", "image/svg+xml"])
        op = {"tags": ["console"], "summary": summary, "operationId": op_id("GET", path),
              "security": PUBLIC,
              "responses": {
                  "200": {"description": "the file",
                          "content": {t: {"schema": {"type": "string"}} for t in types}},
                  "304": {"description": "not modified (If-None-Match)"}}}
        if path == "/console/{path}":
            op["parameters"] = [path_param("path", "file path", {"type": "string",
                                                                 "examples": ["js/app.js"]})]
            op["responses"].update(errors(404))
        ops.append(("get", path, op))

    paths = {}
    for method, path, op in ops:
        paths.setdefault(path, {})[method] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "temboard-agent API",
            "version": cargo_version(),
            "description": "The API of temboard-agent (Rust), a drop-in replacement for the "
                           "temBoard agent 7.x. Contract: the temBoard agent API with its "
                           "resolutions; this agent's additions are described in docs/. "
                           "Every error answer is `{\"error\": \"<message>\"}`.",
            "license": {"name": "PostgreSQL", "identifier": "PostgreSQL"},
        },
        "servers": [{"url": "https://127.0.0.1:2345"}],
        "paths": paths,
        "components": {
            "schemas": {"Error": obj({"error": {"type": "string"}})},
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "header", "name": "X-Session",
                            "description": "the session id answered by POST /login"},
                "agentKey": {"type": "apiKey", "in": "header", "name": "X-TemBoard-Agent-Key",
                             "description": "[temboard] key"},
                "agentKeyQuery": {"type": "apiKey", "in": "query", "name": "key",
                                  "description": "[temboard] key"},
                "metricsToken": {"type": "http", "scheme": "bearer",
                                 "description": "[monitoring] metrics_token"},
            },
        },
    }


def discover():
    schema = answer("GET /discover")
    for key in ("pg_data", "pg_port", "pg_version"):
        schema = at(schema, [key], {"type": [schema["properties"][key]["type"], "null"]})
    return schema


def probe_schema():
    """`{"<probe>": [rows]}`: one key, the probe's name."""
    variants = []
    for key in sorted(k for k in set(SAMPLES) | set(EXAMPLES) if k.startswith("GET /monitoring/probe/")):
        variants.append(answer(key, nullable=True))
    return {"anyOf": variants}


def cargo_version():
    text = open(os.path.join(ROOT, "Cargo.toml")).read()
    return re.search(r'^version = "([^"]+)"', text, re.M).group(1)


if __name__ == "__main__":
    doc = build()
    with open(os.path.join(ROOT, "docs/openapi.json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=False)
        f.write("\n")
    print(f"docs/openapi.json: {sum(len(v) for v in doc['paths'].values())} operations")
