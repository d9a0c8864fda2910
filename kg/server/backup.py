"""Backups of the local server: dump and restore with neo4j-admin, stopping and restarting
the server around them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from ..errors import RuntimeUnavailable


class BackupMixin:
    """A part of kg.runtime.LocalNeo4j (``self`` is one: typed Any here)."""

    def _offline(self: Any, action: str) -> bool:
        st = self.state()
        if st.get("runtime") == "docker":
            raise RuntimeUnavailable(
                f"`kg db {action}` works with the Java runtime; with Docker use "
                "`docker exec` and neo4j-admin in the container."
            )
        return self.stop()

    def dump(self: Any, out: Path) -> Path:
        """Dump the database to a file (neo4j-admin database dump), restarting if it ran."""
        import tempfile

        from ..safeio import require_free, tree_size

        out = Path(out).absolute()
        out.parent.mkdir(parents=True, exist_ok=True)
        require_free(out.parent, tree_size(self.data_dir / "databases" / "neo4j"), "the dump")
        was_running = self._offline("dump")
        try:
            # Written into a private folder beside the target and renamed over it when
            # complete (0600): a failed dump leaves the previous file and no partial one.
            with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as tmp:
                res = self.admin(
                    "database", "dump", "neo4j", f"--to-path={tmp}", "--overwrite-destination=true"
                )
                if res.returncode != 0:
                    raise RuntimeUnavailable(
                        "neo4j-admin could not dump the database: "
                        + (res.stderr or res.stdout).strip()[-800:]
                    )
                made = Path(tmp) / "neo4j.dump"
                os.chmod(made, 0o600)
                os.replace(made, out)
        finally:
            if was_running:
                self.start()
        return out

    def restore(self: Any, dump: Path) -> None:
        """Replace the database with a dump (neo4j-admin database load), restarting if it ran."""
        import tempfile

        dump = Path(dump)
        if not dump.is_file():
            raise RuntimeUnavailable(f"no dump file at {dump}")
        was_running = self._offline("restore")
        try:
            with tempfile.TemporaryDirectory(dir=self.root) as tmp:
                shutil.copyfile(dump, Path(tmp) / "neo4j.dump")
                res = self.admin(
                    "database",
                    "load",
                    "neo4j",
                    f"--from-path={tmp}",
                    "--overwrite-destination=true",
                )
                if res.returncode != 0:
                    raise RuntimeUnavailable(
                        "neo4j-admin could not load the dump: "
                        + (res.stderr or res.stdout).strip()[-800:]
                    )
        finally:
            if was_running:
                self.start()
