"""pytest suite of the example against a live cluster of its own.

test/suites/fastapi_example.sh starts the cluster and sets:
    PGFX_DATA   its data directory (the tests stop and start it)
    PGFX_BIN    the server's bin directory (pg_ctl)
    PGFX_PORT   its port on 127.0.0.1, database agent_core, role monitor
    PGFX_BASE   first of the ports the tests may use for the app and the webhook
The app runs under uvicorn on 127.0.0.1, the webhook receiver in this process.
"""
import asyncio
import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import asyncpg
import httpx
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ["PGFX_DATA"]
BIN = os.environ["PGFX_BIN"]
PORT = int(os.environ["PGFX_PORT"])
BASE = int(os.environ["PGFX_BASE"])
APP_PORT, HOOK_PORT = BASE + 10, BASE + 11
MONITOR_DSN = f"postgresql://monitor@127.0.0.1:{PORT}/agent_core"
ADMIN_DSN = f"postgresql://postgres@127.0.0.1:{PORT}/agent_core"
URL = f"http://127.0.0.1:{APP_PORT}/healthz/db"
SAMPLE_INTERVAL = 1


def pg_ctl(*args):
    cmd = [os.path.join(BIN, "pg_ctl"), "-D", DATA, "-w", "-t", "60", *args]
    if os.getuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def admin(sql):
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql)


def wait_until(predicate, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


class Hook(BaseHTTPRequestHandler):
    received = queue.Queue()

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.put(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def webhook():
    server = HTTPServer(("127.0.0.1", HOOK_PORT), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Hook.received
    server.shutdown()


@pytest.fixture(scope="session")
def app(webhook):
    env = dict(os.environ,
               DATABASE_URL=f"postgresql+asyncpg://monitor@127.0.0.1:{PORT}/agent_core",
               DATABASE_POOL_SIZE="5", MAX_OVERFLOW="10", POOL_TIMEOUT="10",
               POOL_RECYCLE="3600", ALERT_WEBHOOK_URL=f"http://127.0.0.1:{HOOK_PORT}/hook")
    log = open(os.path.join(os.environ.get("PGFX_LOGDIR", HERE), "uvicorn.log"), "w")
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1",
                             "--port", str(APP_PORT), "--log-level", "info"],
                            cwd=HERE, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: httpx.get(URL, timeout=15).status_code in (200, 503), 60, "the app")
        wait_until(lambda: httpx.get(URL, timeout=15).json()["listener"]["connected"], 60,
                   "the listener")
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def drain(q):
    while not q.empty():
        q.get_nowait()


def next_event(q, check, new_status, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            event = q.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        if event["check"] == check and event["new_status"] == new_status:
            return event
    raise AssertionError(f"no {check} -> {new_status} event within {seconds} s")


def test_ok_is_200_with_pool_figures(app):
    r = httpx.get(URL, timeout=15)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] in ("ok", "warning")
    assert body["pool"]["size"] == 5
    assert set(body["pool"]) == {"size", "checked_out", "overflow", "checked_in"}
    assert isinstance(body["health"]["checks"], list)


def test_jsonb_is_a_dict_with_sqlalchemy_asyncpg_and_psycopg():
    async def via_sqlalchemy():
        engine = create_async_engine(f"postgresql+asyncpg://monitor@127.0.0.1:{PORT}/agent_core")
        async with engine.connect() as conn:
            value = (await conn.execute(text("SELECT pgmaint.health()"))).scalar_one()
        await engine.dispose()
        return value

    assert isinstance(asyncio.run(via_sqlalchemy()), dict)
    with psycopg.connect(MONITOR_DSN) as conn:
        assert isinstance(conn.execute("SELECT pgmaint.health()").fetchone()[0], dict)


def test_raw_asyncpg_needs_a_jsonb_codec():
    async def raw(codec):
        conn = await asyncpg.connect(MONITOR_DSN)
        if codec:
            await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads,
                                      schema="pg_catalog")
        value = await conn.fetchval("SELECT pgmaint.health()")
        await conn.close()
        return value

    assert isinstance(asyncio.run(raw(False)), str)
    assert isinstance(asyncio.run(raw(True)), dict)


def test_planted_critical_is_503_naming_the_check_and_reaches_the_webhook(app, webhook):
    drain(webhook)
    admin("UPDATE pgmaint.thresholds SET warning = 1, critical = 2 WHERE check_name = 'idle_in_transaction'")
    leak = psycopg.connect(ADMIN_DSN)  # a leaked session: BEGIN, then nothing
    try:
        leak.execute("SELECT 1")
        wait_until(lambda: httpx.get(URL, timeout=15).status_code == 503, 30, "503")
        body = httpx.get(URL, timeout=15).json()
        assert body["status"] == "critical"
        assert "idle_in_transaction" in body["critical"]
        started = time.monotonic()
        # two sample intervals, plus the one it must hold (alert_hold) and slack
        event = next_event(webhook, "idle_in_transaction", "critical", 4 * SAMPLE_INTERVAL + 20)
        assert event["overall"] == "critical" and event["database"] == "agent_core"
        assert time.monotonic() - started < 4 * SAMPLE_INTERVAL + 20
    finally:
        leak.close()
        admin("UPDATE pgmaint.thresholds SET warning = 60, critical = 300 WHERE check_name = 'idle_in_transaction'")
    next_event(webhook, "idle_in_transaction", "ok", 30)
    wait_until(lambda: httpx.get(URL, timeout=15).status_code == 200, 30, "200 again")


def test_stopped_server_is_503_within_the_timeout_then_200(app, webhook):
    pg_ctl("-m", "fast", "stop")
    try:
        started = time.monotonic()
        r = httpx.get(URL, timeout=30)
        assert r.status_code == 503
        assert r.json()["status"] == "unreachable"
        assert time.monotonic() - started < 10 + 2
    finally:
        pg_ctl("-l", os.path.join(os.path.dirname(DATA), "server.log"), "start")
    wait_until(lambda: httpx.get(URL, timeout=15).status_code == 200, 60, "200 after the restart")
    # the listener reconnects, and the next event still arrives
    wait_until(lambda: httpx.get(URL, timeout=15).json()["listener"]["connected"], 60,
               "the listener's reconnection")
    drain(webhook)
    admin("UPDATE pgmaint.thresholds SET warning = 0 WHERE check_name = 'connections'")
    try:
        next_event(webhook, "connections", "warning", 30)
    finally:
        admin("UPDATE pgmaint.thresholds SET warning = 80 WHERE check_name = 'connections'")
    next_event(webhook, "connections", "ok", 30)


def test_forged_and_junk_notifications_are_dropped_and_the_listener_stays(app, webhook):
    """Any role may NOTIFY pgmaint_health: a fake all-clear, junk, or a copy of
    a real event from another session never reaches the webhook, and the
    listener neither drops nor reconnects."""
    before = httpx.get(URL, timeout=15).json()["listener"]
    drain(webhook)
    with psycopg.connect(MONITOR_DSN, autocommit=True) as conn:
        real = conn.execute("SELECT pgmaint._health_event_payload(at, check_name, old_status, new_status,"
                            " value, message, overall) FROM pgmaint.health_events ORDER BY id DESC LIMIT 1"
                            ).fetchone()
        forged = [json.dumps({"at": "2026-01-01T00:00:00+00:00", "check": "idle_in_transaction",
                              "old_status": "critical", "new_status": "ok", "value": 0,
                              "overall": "ok", "message": "all clear (forged)",
                              "database": "agent_core"}),
                  "not json", "[]", '{"check": 1}', ""]
        if real:
            forged.append(real[0])  # a true event, sent again from the wrong pid
        for payload in forged:
            conn.execute("SELECT pg_notify('pgmaint_health', %s)", (payload,))
    wait_until(lambda: httpx.get(URL, timeout=15).json()["listener"]["dropped"]
               >= before["dropped"] + len(forged), 30, "the dropped notifications")
    # a real event still arrives, and nothing forged came before it
    admin("UPDATE pgmaint.thresholds SET warning = 0 WHERE check_name = 'connections'")
    try:
        seen = []
        deadline = time.monotonic() + 30
        while not any(e["check"] == "connections" and e["new_status"] == "warning" for e in seen):
            assert time.monotonic() < deadline, f"no connections -> warning event: {seen}"
            with contextlib.suppress(queue.Empty):
                seen.append(webhook.get(timeout=1))
        assert not [e for e in seen if e.get("message") == "all clear (forged)"], seen
    finally:
        admin("UPDATE pgmaint.thresholds SET warning = 80 WHERE check_name = 'connections'")
    next_event(webhook, "connections", "ok", 30)
    after = httpx.get(URL, timeout=15).json()["listener"]
    assert after["connected"] and after["connects"] == before["connects"]
    assert after["dropped"] == before["dropped"] + len(forged)
