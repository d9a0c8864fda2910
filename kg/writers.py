"""Writing what a load changes: batches of rows through the store, nodes and edges on two
writer threads (an edge waits for the chunk that creates its ends)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable

from .plan import Changes, Plan, _kind_of, edge_key_props, plan_chunk  # noqa: F401
from .store import Store

DEFAULT_BATCH = 5_000


def write_changes(
    store: Store,
    changes: Iterable[tuple[str, str, list]],
    replaced: list[str],
    *,
    batch_size: int = DEFAULT_BATCH,
) -> None:
    for op, name, rows in changes:
        for i in range(0, len(rows), batch_size):
            chunk = rows[i : i + batch_size]
            if op == "create_nodes":
                store.merge_nodes(name, chunk, replaced)
            elif op == "update_nodes":
                store.set_node_props(chunk, replaced)
            elif op == "delete_nodes":
                store.delete_nodes(chunk, replaced)
            elif op == "drop_edges":
                store.delete_edges(chunk)
            elif op == "delete_edges":
                store.retract_edges(chunk, replaced)
            elif op == "create_edges":
                store.create_edges(name, chunk, key=edge_key_props(name))
            elif op == "update_edges":
                store.set_edge_props(chunk, replaced)


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
        self.node_jobs: queue.Queue = queue.Queue(maxsize=2)
        self.edge_jobs: queue.Queue = queue.Queue(maxsize=2)
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
                    write_changes(self.store, batches, self.replaced, batch_size=self.batch_size)
                except BaseException as e:
                    self._fail(e)
            with self.cond:
                self.nodes_done = k
                self.cond.notify_all()

    def _edges(self) -> None:
        while (job := self.edge_jobs.get()) is not None:
            k, batches, records = job
            with self.cond:
                self.cond.wait_for(lambda: self.nodes_done >= k or self.error is not None)
            if self.error is not None:
                continue  # drain: the caller raises the error
            try:
                write_changes(self.store, batches, self.replaced, batch_size=self.batch_size)
                if self.progress and records:
                    self.progress(records)
            except BaseException as e:
                self._fail(e)

    def put(self, batches: list[tuple[str, str, list]], records: int) -> None:
        if self.error is not None:
            raise self.error
        self.chunks += 1
        self.node_jobs.put((self.chunks, [b for b in batches if b[0] in _NODE_OPS]))
        self.edge_jobs.put((self.chunks, [b for b in batches if b[0] not in _NODE_OPS], records))

    def close(self, *, raise_error: bool = True) -> None:
        self.node_jobs.put(None)
        self.edge_jobs.put(None)
        for t in self.threads:
            t.join()
        if self.error is not None and raise_error:
            raise self.error
