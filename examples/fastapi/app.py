"""The guide's database health endpoint and pgmaint's alert listener.

A FastAPI application written the way the guide's team writes theirs: an
SQLAlchemy 1.4 async engine over asyncpg, pool settings from the environment,
`GET /healthz/db` answering from `pgmaint.health()`, and a background task
that LISTENs on `pgmaint_health`, logs every event and posts it to a chat
webhook (ALERT_WEBHOOK_URL).

Any role that may connect can NOTIFY pgmaint_health, so the listener trusts
a notification only when it comes from the pgmaint worker's process
(`pgmaint.sampler_status().pid`) and the event it describes is a row of
`pgmaint.health_events` (which only the worker writes: code a table's owner
planted could run inside the worker during a retention run and NOTIFY under
its pid, but cannot write that table).  Anything else, and any payload that
is not an event, is counted and logged, and the listener goes on.

Environment:
    DATABASE_URL         postgresql+asyncpg://monitor@127.0.0.1:5432/agent_core
                         (a role with pg_monitor)
    DATABASE_POOL_SIZE   5      MAX_OVERFLOW 10
    POOL_TIMEOUT         10     POOL_RECYCLE 3600
    ALERT_WEBHOOK_URL    optional: each event is POSTed there as JSON
"""
import asyncio
import contextlib
import json
import logging
import os

import asyncpg
import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
log = logging.getLogger("pgmaint.alerts")

DATABASE_URL = os.environ["DATABASE_URL"]
POOL_SIZE = int(os.environ.get("DATABASE_POOL_SIZE", "5"))
MAX_OVERFLOW = int(os.environ.get("MAX_OVERFLOW", "10"))
POOL_TIMEOUT = float(os.environ.get("POOL_TIMEOUT", "10"))
POOL_RECYCLE = int(os.environ.get("POOL_RECYCLE", "3600"))
ALERT_WEBHOOK_URL = os.environ.get("ALERT_WEBHOOK_URL")

# The SQLAlchemy asyncpg dialect decodes json and jsonb into Python objects:
# pgmaint.health() arrives as a dict.  pool_pre_ping replaces connections
# that a server restart closed.
engine = create_async_engine(
    DATABASE_URL,
    pool_size=POOL_SIZE,
    max_overflow=MAX_OVERFLOW,
    pool_timeout=POOL_TIMEOUT,
    pool_recycle=POOL_RECYCLE,
    pool_pre_ping=True,
    connect_args={"timeout": POOL_TIMEOUT},
)

app = FastAPI()
listener_state = {"connected": False, "events": 0, "dropped": 0, "connects": 0}

# The fields of an event's payload (sql/code/91-events.sql, _health_event_payload)
EVENT_FIELDS = ("at", "check", "old_status", "new_status", "value", "overall", "message", "database")


def pool_figures():
    pool = engine.pool
    return {"size": pool.size(), "checked_out": pool.checkedout(),
            "overflow": pool.overflow(), "checked_in": pool.checkedin()}


@app.get("/healthz/db")
async def database_health():
    """pgmaint.health() and the pool: 200 for ok and warning, 503 for critical
    or a database that does not answer within the pool timeout."""
    try:
        async with asyncio.timeout(POOL_TIMEOUT):
            async with engine.connect() as conn:
                health = (await conn.execute(text("SELECT pgmaint.health()"))).scalar_one()
    except Exception as e:  # unreachable, refused, timed out, pool exhausted
        return JSONResponse(
            {"status": "unreachable", "detail": f"{type(e).__name__}: {e}",
             "pool": pool_figures(), "listener": listener_state},
            status_code=503)
    failing = [c["check"] for c in health["checks"] if c["status"] == "critical"]
    body = {"status": health["status"], "since": health.get("since"),
            "critical": failing, "pool": pool_figures(),
            "listener": listener_state, "health": health}
    return JSONResponse(body, status_code=503 if health["status"] == "critical" else 200)


def asyncpg_dsn(url):
    """The SQLAlchemy URL as a plain libpq URL for asyncpg.connect()."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def post_event(client, event):
    if not ALERT_WEBHOOK_URL:
        return
    try:
        await client.post(ALERT_WEBHOOK_URL, json=event, timeout=5)
    except httpx.HTTPError as e:
        log.warning("could not post the event to the webhook: %s", e)


async def worker_pid(conn):
    """The pid of the pgmaint worker now (NULL when it is not running)."""
    return await conn.fetchval("SELECT pid FROM pgmaint.sampler_status()")


def parse_event(payload):
    """The event a payload holds, or None for junk: not JSON, not an object,
    or without the fields an event has."""
    try:
        event = json.loads(payload)
    except (TypeError, ValueError):
        return None
    if not isinstance(event, dict) or any(k not in event for k in EVENT_FIELDS):
        return None
    if not all(isinstance(event[k], str) for k in ("at", "check", "new_status")):
        return None
    return event


async def trusted_event(conn, pid, payload, state):
    """The event of a notification when the pgmaint worker sent it and
    pgmaint.health_events has it, else None (and the reason is logged)."""
    if pid != state.get("worker_pid"):
        # read again: the worker may have restarted since
        state["worker_pid"] = await worker_pid(conn)
    if pid != state["worker_pid"]:
        log.warning("pgmaint_health: dropped a notification from pid %s, not the pgmaint worker (%s)",
                    pid, state["worker_pid"])
        return None
    event = parse_event(payload)
    if event is None:
        log.warning("pgmaint_health: dropped a payload that is not an event: %.200r", payload)
        return None
    recorded = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM pgmaint.health_events e"
        " WHERE e.at = $1::text::timestamptz AND e.check_name = $2 AND e.new_status = $3)",
        event["at"], event["check"], event["new_status"])
    if not recorded:
        log.warning("pgmaint_health: dropped an event that pgmaint.health_events does not hold: %.200r",
                    payload)
        return None
    return event


async def listen_for_events():
    """LISTEN pgmaint_health on a connection of its own (a pooled connection
    would lose the LISTEN when returned); reconnect when it is lost."""
    queue = asyncio.Queue()
    delay = 1
    async with httpx.AsyncClient() as client:
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(asyncpg_dsn(DATABASE_URL), timeout=POOL_TIMEOUT)
                lost = asyncio.Event()
                conn.add_termination_listener(lambda c: lost.set())
                await conn.add_listener(
                    "pgmaint_health", lambda c, pid, channel, payload: queue.put_nowait((pid, payload)))
                state = {}
                listener_state["connected"] = True
                listener_state["connects"] += 1
                delay = 1
                log.info("listening on pgmaint_health")
                while not lost.is_set() and not conn.is_closed():
                    try:
                        pid, payload = await asyncio.wait_for(queue.get(), timeout=1)
                    except asyncio.TimeoutError:
                        # a dead server is noticed only on the next round trip
                        with contextlib.suppress(Exception):
                            await conn.execute("SELECT 1", timeout=POOL_TIMEOUT)
                        continue
                    event = await trusted_event(conn, pid, payload, state)
                    if event is None:
                        listener_state["dropped"] += 1
                        continue
                    listener_state["events"] += 1
                    level = logging.WARNING if event["new_status"] in ("warning", "critical") else logging.INFO
                    log.log(level, "pgmaint: %s %s -> %s (value %s): %s", event["check"],
                            event["old_status"], event["new_status"], event["value"], event["message"])
                    await post_event(client, event)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                log.warning("pgmaint_health listener: %s; reconnecting in %s s", e, delay)
            finally:
                listener_state["connected"] = False
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await conn.close(timeout=1)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30)


@app.on_event("startup")
async def start_listener():
    app.state.listener = asyncio.create_task(listen_for_events())


@app.on_event("shutdown")
async def stop_listener():
    app.state.listener.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await app.state.listener
    await engine.dispose()
