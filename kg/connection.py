"""Connecting to Neo4j: a driver from settings (kg's own server: TLS pinned to its
certificate), and ``open_store``, a checked connection that says what is wrong (nothing
listens, or another program holds kg's port). Part of the store layer."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import neo4j
from neo4j import GraphDatabase
from neo4j import exceptions as nx

from . import __version__
from .config import Settings
from .errors import (
    ConnectionFailed,
    DatabaseError,
    KgError,
    QueryFailed,
    QueryTimedOut,
    WriteRefused,
)

if TYPE_CHECKING:
    from .store import Store


class _QuietRetries(logging.Filter):
    """Drops the driver's "Transaction failed and will be retried" warning: a retried
    transient error (a deadlock between kg's own writer threads) is part of a load that
    then succeeds, not news for its user; one that keeps failing is raised as an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Transaction failed and will be retried")


logging.getLogger("neo4j.session").addFilter(_QuietRetries())


def connect(settings: Settings) -> neo4j.Driver:
    """A driver for the configured server; the caller closes it."""
    if settings.managed and not settings.password:
        raise ConnectionFailed(
            f"kg's local Neo4j has not been set up in {settings.home} yet.",
            hint="Start it with `kg db start` (or set KG_NEO4J_URI to use another server).",
        )
    auth = (settings.user, settings.password or "")
    tls: dict[str, Any] = {}
    if settings.managed:
        from .runtime import LocalNeo4j

        # kg's own server: TLS with the certificate kg made for it, trusted alone, so the
        # password goes to nothing else that may hold the port.
        tls = LocalNeo4j(settings.home, 0).tls_options()
    try:
        return GraphDatabase.driver(
            settings.uri,
            auth=auth,
            user_agent=f"kg/{__version__}",
            connection_timeout=15,
            max_transaction_retry_time=30,
            notifications_min_severity="OFF",
            **tls,
        )
    except (ValueError, nx.ConfigurationError) as e:
        raise ConnectionFailed(f"cannot use KG_NEO4J_URI {settings.describe()}: {e}") from e


@contextmanager
def open_store(settings: Settings) -> Iterator[Store]:
    from .store import Store

    driver = connect(settings)
    try:
        store = Store(
            driver, settings.database, where=settings.describe(), managed=settings.managed
        )
        try:
            # Fails at once when nothing listens, instead of after the retry budget of a
            # managed transaction.
            driver.verify_connectivity()
        except Exception as e:
            err = store._translate(e)
            if settings.managed and isinstance(err, ConnectionFailed):
                err = _not_our_server(settings) or err
            raise err from e
        yield store
    finally:
        driver.close()


def _not_our_server(settings: Settings) -> ConnectionFailed | None:
    """When kg's own server is down but something listens on its port: say so, naming the
    port and (when it can be seen) the process. The pinned certificate kept the password."""
    from .runtime import LocalNeo4j, port_open, squatter_message

    m = re.search(r":(\d+)$", settings.uri.split("://", 1)[-1].split("/", 1)[0])
    if not m:
        return None
    port = int(m.group(1))
    local = LocalNeo4j(settings.home, port)
    if local.status().running or not port_open(port):
        return None
    return ConnectionFailed(
        squatter_message(port) + ".",
        hint="kg's server is not running: stop that program and "
        "`kg db start`, or choose another port with KG_BOLT_PORT.",
    )


def translate(
    e: Exception, where: str | None, *, managed: bool, timeout: float | None
) -> Exception:
    """A driver error as a kg error with context: where, what to do (a KgError as it is)."""
    if isinstance(e, KgError):
        return e
    where = where or "the database"
    if isinstance(e, nx.AuthError):
        hint = (
            "The local server's password is in $KG_HOME/neo4j/password."
            if managed
            else "Check KG_NEO4J_USER and KG_NEO4J_PASSWORD."
        )
        return ConnectionFailed(f"Neo4j at {where} rejected the credentials.", hint=hint)
    if isinstance(e, (nx.ServiceUnavailable, nx.SessionExpired, ConnectionError, OSError)):
        hint = (
            "Start it with `kg db start`."
            if managed
            else "Check KG_NEO4J_URI and that the server is up."
        )
        return ConnectionFailed(f"no Neo4j answers at {where}.", hint=hint)
    if isinstance(e, nx.Neo4jError):
        code = e.code or ""
        msg = (e.message or str(e)).strip()
        if (
            code.endswith("AccessMode")
            or "ForbiddenOnReadOnlyDatabase" in code
            or "Writing in read access mode" in msg
        ):
            return WriteRefused(
                "this query writes to the database, and kg runs queries "
                "read-only unless told otherwise; nothing was changed.",
                hint="Re-run with --write if the write is intended.",
            )
        if isinstance(e, nx.CypherSyntaxError) or "SyntaxError" in code:
            first = msg.splitlines()[0] if msg else code
            return QueryFailed(f"Cypher syntax error: {first}")
        if "TransactionTimedOut" in code:
            return QueryTimedOut(
                f"the query ran longer than {timeout or 0:g} s and the server stopped "
                "it; nothing was changed.",
                hint="Narrow it (a more specific entity, fewer hops), or allow longer with "
                "--timeout SECONDS (or KG_QUERY_TIMEOUT).",
            )
        if "ParameterMissing" in code:
            return QueryFailed(f"the query needs a parameter that was not given: {msg}")
        return QueryFailed(
            f"Neo4j refused the query ({code}): {msg.splitlines()[0] if msg else ''}"
        )
    if isinstance(e, nx.DriverError):
        return DatabaseError(f"the Neo4j driver failed talking to {where}: {e}")
    return e
