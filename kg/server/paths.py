"""Where the local server keeps its files, under ``$KG_HOME/neo4j`` (``self.root``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class PathsMixin:
    """A part of kg.runtime.LocalNeo4j (``self`` is one: typed Any here)."""

    @property
    def conf_dir(self: Any) -> Path:
        return self.root / "conf"

    @property
    def data_dir(self: Any) -> Path:
        return self.root / "data"

    def store_bytes(self: Any) -> int:
        """The size of the graph's files on disk (0 before the first start): KG_NEO4J_JIT=auto
        chooses the compiler by it (kg.config.jit_mode)."""
        folder = self.data_dir / "databases" / "neo4j"
        try:
            return sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
        except OSError:
            return 0

    @property
    def logs_dir(self: Any) -> Path:
        return self.root / "logs"

    @property
    def import_dir(self: Any) -> Path:
        return self.root / "import"

    @property
    def password_file(self: Any) -> Path:
        return self.root / "password"

    @property
    def state_file(self: Any) -> Path:
        return self.root / "state.json"

    @property
    def cert_dir(self: Any) -> Path:
        return self.root / "certificates" / "bolt"

    @property
    def certificate(self: Any) -> Path:
        """The server's self-signed Bolt certificate; kg's driver trusts only it."""
        return self.cert_dir / "public.crt"
