"""Writing what a load changes: batches of rows through the store, nodes and edges on two
writer threads (an edge waits for the chunk that creates its ends); new relationships two
transactions at a time when the two share no node."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from .plan import Changes, Plan, _kind_of, edge_key_props, plan_chunk  # noqa: F401
from .store import Store

DEFAULT_BATCH = 5_000


def edge_units(
    name: str, rows: list[dict], batch_size: int, written: dict[str, str] | None
) -> list[tuple[str, list[dict], bool]]:
    """One type's new relationships as transactions: (type, rows, by element id). Rows whose
    two ends this load has written (``written``: kg id -> element id, filled by its node
    writes) find their ends by element id (Store.create_edges)."""
    known: list[dict] = []
    rest = rows
    if written:
        rest = []
        for r in rows:
            s, e = written.get(r["start"]), written.get(r["end"])
            if s is not None and e is not None:
                known.append(dict(r, s=s, e=e))
            else:
                rest.append(r)
    return [(name, known[i : i + batch_size], True) for i in range(0, len(known), batch_size)] + [
        (name, rest[i : i + batch_size], False) for i in range(0, len(rest), batch_size)
    ]


def write_changes(
    store: Store,
    changes: Iterable[tuple[str, str, list]],
    replaced: list[str],
    *,
    batch_size: int = DEFAULT_BATCH,
    written: dict[str, str] | None = None,
) -> None:
    """Write the changes in order, one transaction per batch. ``written``: see edge_units."""
    for op, name, rows in changes:
        if op == "create_edges":
            for t, unit, by_eid in edge_units(name, rows, batch_size, written):
                store.create_edges(t, unit, key=edge_key_props(t), by_element_id=by_eid)
            continue
        for i in range(0, len(rows), batch_size):
            chunk = rows[i : i + batch_size]
            if op == "create_nodes":
                found = store.merge_nodes(name, chunk, replaced)
                if written is not None:
                    written.update(found)
            elif op == "update_nodes":
                store.set_node_props(chunk, replaced)
            elif op == "delete_nodes":
                store.delete_nodes(chunk, replaced)
            elif op == "drop_edges":
                store.delete_edges(chunk)
            elif op == "delete_edges":
                store.retract_edges(chunk, replaced)
            elif op == "update_edges":
                store.set_edge_props(chunk, replaced)


def create_edges_disjoint(
    store: Store, units: list[tuple[str, list[dict], bool]], pool: ThreadPoolExecutor
) -> None:
    """Create relationships two transactions at a time where the two touch no node in common
    (Neo4j locks both ends of a new relationship until commit: transactions that share no node
    do not wait for each other's nodes); one at a time otherwise. They can still meet, rarely,
    at an existing relationship between their nodes (Neo4j also locks the relationship a new
    one is linked in next to): a deadlock, after which the managed transaction runs again. The
    order of new relationships does not matter: two rows that could be the same relationship
    share both their ends, so they are never written at once."""
    pending = [(u, {r["start"] for r in u[1]} | {r["end"] for r in u[1]}) for u in units]
    running: dict[Future, set[str]] = {}
    error: BaseException | None = None
    while (pending and error is None) or running:
        while pending and error is None and len(running) < 2:
            pick = next(
                (
                    i
                    for i, (_u, nodes) in enumerate(pending)
                    if all(nodes.isdisjoint(other) for other in running.values())
                ),
                None,
            )
            if pick is None:
                break
            (t, rows, by_eid), nodes = pending.pop(pick)
            fut = pool.submit(
                store.create_edges, t, rows, key=edge_key_props(t), by_element_id=by_eid
            )
            running[fut] = nodes
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for fut in done:
            running.pop(fut)
            exc = fut.exception()
            if exc is not None and error is None:
                error = exc
    if error is not None:
        raise error


_NODE_OPS = ("create_nodes", "update_nodes")


class _Writers:
    """Two writer threads: one for nodes, one for relationships. Chunk k's relationships are
    written once the nodes of chunks 1..k are, so the server writes the next chunk's nodes
    while it writes this chunk's relationships (new nodes and the nodes relationships lock
    are different nodes: the two do not wait on each other). The first error stops both and
    is raised in the caller at its next call."""

    def __init__(
        self,
        store: Store,
        batch_size: int,
        progress: Callable[[int], None] | None,
        replaced: list[str],
    ):
        self.store, self.batch_size, self.progress = store, batch_size, progress
        self.replaced = replaced
        self.written: dict[str, str] = {}  # nodes written by this load: kg id -> element id
        self.node_jobs: queue.Queue = queue.Queue(maxsize=2)
        self.edge_jobs: queue.Queue = queue.Queue(maxsize=4)  # two a chunk (put: early)
        self.error: BaseException | None = None
        self.nodes_done = 0  # chunks whose nodes are written
        self.chunks = 0
        self.cond = threading.Condition()
        self.threads = [
            threading.Thread(target=self._nodes, name="kg-nodes", daemon=True),
            threading.Thread(target=self._edges, name="kg-edges", daemon=True),
        ]
        for t in self.threads:
            t.start()

    def _fail(self, e: BaseException) -> None:
        with self.cond:
            if self.error is None:
                self.error = e
            self.cond.notify_all()

    def _nodes(self) -> None:
        while (job := self.node_jobs.get()) is not None:
            k, batches = job
            if self.error is None:
                try:
                    write_changes(
                        self.store,
                        batches,
                        self.replaced,
                        batch_size=self.batch_size,
                        written=self.written,
                    )
                except BaseException as e:
                    self._fail(e)
            with self.cond:
                self.nodes_done = k
                self.cond.notify_all()

    def _edges(self) -> None:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="kg-edge") as pool:
            while (job := self.edge_jobs.get()) is not None:
                k, batches, records = job
                with self.cond:
                    self.cond.wait_for(lambda: self.nodes_done >= k or self.error is not None)
                if self.error is not None:
                    continue  # drain: the caller raises the error
                try:
                    self._write_edges(batches, pool)
                    if self.progress and records:
                        self.progress(records)
                except BaseException as e:
                    self._fail(e)

    def _write_edges(self, batches: list[tuple[str, str, list]], pool: ThreadPoolExecutor) -> None:
        """In order; a run of new relationships two transactions at a time where they can be
        (create_edges_disjoint)."""
        i = 0
        while i < len(batches):
            if batches[i][0] != "create_edges":
                write_changes(
                    self.store,
                    [batches[i]],
                    self.replaced,
                    batch_size=self.batch_size,
                    written=self.written,
                )
                i += 1
                continue
            units: list[tuple[str, list[dict], bool]] = []
            while i < len(batches) and batches[i][0] == "create_edges":
                _op, name, rows = batches[i]
                units += edge_units(name, rows, self.batch_size, self.written)
                i += 1
            create_edges_disjoint(self.store, units, pool)

    def put(
        self,
        batches: list[tuple[str, str, list]],
        records: int,
        early: list[tuple[str, str, list]] | None = None,
    ) -> None:
        """A chunk's writes. ``early``: its new relationships between nodes of earlier chunks,
        written once those are (not waiting for this chunk's nodes)."""
        if self.error is not None:
            raise self.error
        self.chunks += 1
        self.node_jobs.put((self.chunks, [b for b in batches if b[0] in _NODE_OPS]))
        if early:
            self.edge_jobs.put((self.chunks - 1, early, 0))
        self.edge_jobs.put((self.chunks, [b for b in batches if b[0] not in _NODE_OPS], records))

    def close(self, *, raise_error: bool = True) -> None:
        self.node_jobs.put(None)
        self.edge_jobs.put(None)
        for t in self.threads:
            t.join()
        if self.error is not None and raise_error:
            raise self.error
