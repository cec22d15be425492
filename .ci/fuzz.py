#!/usr/bin/env python3
"""Fuzzes every operation of docs/openapi.json with Schemathesis, against the real
agent on a throwaway PostgreSQL cluster. Exits non-zero on any finding.

    python3 .ci/fuzz.py [AGENT_BINARY]      (default target/debug/temboard-agent)

- The agent and its cluster are the quick start's (`temboard-agent quickstart`), in
  a temporary folder, on a free port; both are stopped at the end. Nothing else on
  the machine is touched (the cluster listens on its own Unix socket only).
- Two runs: one with a session (`X-Session`) on every operation, one with the agent
  key (`X-TemBoard-Agent-Key`) on the operations that accept it. Each run is bounded
  by TBA_FUZZ_SECONDS (default 100 s).
- Checks: every Schemathesis check (no 5xx, status codes, content types, response
  schemas with their exact keys, schema-valid requests accepted, invalid ones
  refused, 405 for other methods...), except `ignored_auth`: a request without a
  session answers 406 "Parameter 'X-Session' is malformed." (the spec's status, in
  resolutions.md), where that check wants 401 or 403.
- Excluded: `POST /administration/control` (stopping PostgreSQL would make every
  later answer "PostgreSQL is unreachable") and `GET /logout` in the session run
  (it would end the session the run uses). Killing or cancelling backends and
  changing settings run: the cluster is thrown away.
- At the end the agent must still run, answer `/status`, see PostgreSQL up, and
  its log must hold no panic.

Schemathesis is installed, pinned, in a virtual environment (TBA_FUZZ_VENV,
default /opt/temboard-agent-ci/schemathesis-<version>) when it is not there.
"""
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SCHEMATHESIS_VERSION = "4.32.5"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.environ.get("TBA_FUZZ_VENV",
                      f"/opt/temboard-agent-ci/schemathesis-{SCHEMATHESIS_VERSION}")
SECONDS = int(os.environ.get("TBA_FUZZ_SECONDS", "100"))
TLS = ssl._create_unverified_context()  # the quick start's self-signed certificate


def log(message):
    print(f"fuzz: {message}", flush=True)


def install_schemathesis():
    st = os.path.join(VENV, "bin", "st")
    if os.path.exists(st):
        out = subprocess.run([st, "--version"], capture_output=True, text=True).stdout
        if SCHEMATHESIS_VERSION in out:
            return st
    log(f"installing schemathesis {SCHEMATHESIS_VERSION} in {VENV}")
    subprocess.run([sys.executable, "-m", "venv", "--clear", VENV], check=True)
    subprocess.run([os.path.join(VENV, "bin", "pip"), "install", "-q",
                    f"schemathesis=={SCHEMATHESIS_VERSION}"], check=True)
    return st


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, path, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"https://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, context=TLS, timeout=30) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def wait_for(what, deadline, check):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"fuzz: timed out after {deadline} s waiting for {what}")


# CPython 3.11 (before 3.11.8) can fail while Hypothesis reads a lambda's source:
# "SystemError: AST constructor recursion depth mismatch". It is the fuzzer's
# interpreter failing, not the agent: reported, not a finding.
KNOWN_ERRORS = ("AST constructor recursion depth mismatch",)


def only_known_errors(junit):
    """Whether a failed run's report holds no check failure, only known errors."""
    import xml.etree.ElementTree as ET
    try:
        cases = ET.parse(junit).getroot().iter("testcase")
    except (OSError, ET.ParseError) as e:
        log(f"no readable report ({e})")
        return False
    failures, errors = 0, 0
    for case in cases:
        for child in case:
            text = f"{child.get('message', '')} {child.text or ''}"
            if child.tag == "failure":
                failures += 1
            elif child.tag == "error":
                if any(k in text for k in KNOWN_ERRORS):
                    log(f"warning: {case.get('name')}: the fuzzer's own error "
                        f"({KNOWN_ERRORS[0]}), not a finding")
                else:
                    errors += 1
    return failures == 0 and errors == 0


def derived_documents(work):
    """The document as each run sees it: one way to authenticate per run, so that
    Schemathesis never makes up a wrong key or session of its own."""
    doc = json.load(open(os.path.join(ROOT, "docs", "openapi.json")))
    docs = {}
    for run, scheme in (("session", "session"), ("key", "agentKey")):
        d = json.loads(json.dumps(doc))
        for path, item in list(d["paths"].items()):
            for method, op in list(item.items()):
                schemes = {k for s in op["security"] for k in s}
                if not op["security"]:
                    continue
                if scheme in schemes:
                    op["security"] = [{scheme: []}]
                elif run == "key":
                    del item[method]  # session only: all 406 with a key alone
            if not item:
                del d["paths"][path]
        d["components"]["securitySchemes"] = {
            k: v for k, v in d["components"]["securitySchemes"].items() if k == scheme}
        docs[run] = os.path.join(work, f"openapi-{run}.json")
        json.dump(d, open(docs[run], "w"))
    return docs


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1
                             else os.path.join(ROOT, "target", "debug", "temboard-agent"))
    st = install_schemathesis()
    work = tempfile.mkdtemp(prefix="tba-fuzz-", dir="/tmp")
    os.chmod(work, 0o755)  # PostgreSQL runs as the postgres OS user in there
    qs = os.path.join(work, "qs")
    # A fuzzer fails logins by the thousand: the login guard would slow it down to
    # one try every 10 s, then lock it out (both are tested in tests/api_login_guard.rs).
    os.makedirs(os.path.join(qs, "temboard-agent.conf.d"))
    with open(os.path.join(qs, "temboard-agent.conf.d", "fuzz.conf"), "w") as f:
        f.write("[temboard]\nlogin_free_failures = 100000000\n"
                "login_lockout_failures = 100000000\n")
    port = free_port()
    out_path = os.path.join(work, "agent.log")
    out = open(out_path, "w")
    agent = subprocess.Popen([binary, "quickstart", "--dir", qs, "--port", str(port)],
                             stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True)
    failed = False
    try:
        def up():
            if agent.poll() is not None:
                raise SystemExit(f"fuzz: the quick start exited:\n{open(out_path).read()}")
            return request(port, "GET", "/status")[0] == 200
        wait_for("the agent", 180, up)
        banner = open(out_path).read()
        password = re.search(r"Password:\s+(\S+)", banner).group(1)
        key = re.search(r"Key:\s+(\S+)", banner).group(1)
        pg_port = re.search(r"socket (\S+), port (\d+)", banner)
        # The objects the document's examples name, so that requests reach them.
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", pg_port.group(1),
                        "-p", pg_port.group(2), "-U", "postgres", "-d", "postgres", "-c",
                        "CREATE TABLE country (id int PRIMARY KEY, name text);"
                        "INSERT INTO country SELECT g, 'c' || g FROM generate_series(1, 1000) g;"
                        "ANALYZE country;"], check=True)
        status, body = request(port, "POST", "/login",
                               {"username": "admin", "password": password})
        assert status == 200, body
        session = body["session"]
        docs = derived_documents(work)
        common = [st, "--config-file", os.path.join(ROOT, ".ci", "schemathesis.toml"),
                  "run", "--url", f"https://127.0.0.1:{port}", "--tls-verify", "false",
                  "--checks", "all", "--exclude-checks", "ignored_auth",
                  "--max-time", str(SECONDS), "--workers", "2", "--max-examples", "50",
                  "--request-timeout", "60", "--seed", os.environ.get("TBA_FUZZ_SEED", "1"),
                  "--exclude-path", "/administration/control",
                  "--suppress-health-check", "all", "--no-color"]
        for run, header, extra in (
                ("session", f"X-Session: {session}", ["--exclude-path", "/logout"]),
                ("key", f"X-TemBoard-Agent-Key: {key}", [])):
            log(f"--- run with the {run} ({SECONDS} s at most)")
            started = time.monotonic()
            junit = os.path.join(work, f"{run}.xml")
            res = subprocess.run(common + ["-H", header, "--report", "junit",
                                           "--report-junit-path", junit] + extra + [docs[run]],
                                 cwd=work)
            log(f"{run} run: exit {res.returncode} in {time.monotonic() - started:.0f} s")
            failed |= res.returncode != 0 and not only_known_errors(junit)
        # Still there, and PostgreSQL with it.
        if agent.poll() is not None:
            log("the agent died")
            failed = True
        else:
            status, body = request(port, "GET", "/status")
            log(f"/status: {status}")
            failed |= status != 200
            status, body = request(port, "GET", "/status/postgres")
            log(f"/status/postgres: {status} {body}")
            failed |= body is None or body.get("state") != "up"
        text = open(out_path).read()
        for bad in ("panicked", "PostgreSQL is unreachable", "changed something without"):
            if bad in text:
                log(f"the agent's log says {bad!r}:")
                print("\n".join(line for line in text.splitlines() if bad in line)[-4000:])
                failed = True
    finally:
        if agent.poll() is None:
            os.killpg(agent.pid, signal.SIGINT)  # the quick start stops its cluster
            try:
                agent.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(agent.pid, signal.SIGKILL)
        if failed:
            keep = os.path.join(ROOT, "target", "fuzz-agent.log")
            shutil.copy(out_path, keep)
            log(f"agent log kept in {keep}")
        shutil.rmtree(work, ignore_errors=True)
    if failed:
        raise SystemExit("fuzz: FAILED")
    log("no finding")


if __name__ == "__main__":
    main()
