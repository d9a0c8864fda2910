"""The Docker backend of the local server: the official image, Bolt on 127.0.0.1, kg's
certificate and password (the Java backend is kg.runtime)."""

from __future__ import annotations

import hashlib
import os
from typing import Any

from ..config import NEO4J_VERSION, memory_setting
from ..errors import RuntimeUnavailable
from .procs import _run


class DockerMixin:
    """A part of kg.runtime.LocalNeo4j (``self`` is one: typed Any here)."""

    def container_name(self: Any) -> str:
        digest = hashlib.sha1(str(self.home.resolve()).encode()).hexdigest()[:10]
        return f"kg-neo4j-{digest}"

    def _start_docker(self: Any, port: int) -> None:
        password = self._ensure_password()
        heap = memory_setting("KG_NEO4J_HEAP", "1g")
        pagecache = memory_setting("KG_NEO4J_PAGECACHE", "256m")
        self.ensure_certificate()
        name = self.container_name()
        _run(["docker", "rm", "-f", name], timeout=60)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        env_file = self.root / "docker.env"
        fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f"NEO4J_AUTH=neo4j/{password}\n")
        cmd = [
            "docker",
            "run",
            "-d",
            "--name",
            name,
            "-p",
            f"127.0.0.1:{port}:7687",
            "--user",
            f"{os.getuid()}:{os.getgid()}",
            "-v",
            f"{self.data_dir}:/data",
            "-v",
            f"{self.logs_dir}:/logs",
            "-v",
            f"{self.cert_dir}:/ssl/bolt:ro",
            "--env-file",
            str(env_file),
            "-e",
            "NEO4J_server_http_enabled=false",
            "-e",
            "NEO4J_dbms_usage__report_enabled=false",
            "-e",
            "NEO4J_dbms_security_allow__csv__import__from__file__urls=false",
            "-e",
            "NEO4J_server_bolt_tls__level=REQUIRED",
            "-e",
            "NEO4J_dbms_ssl_policy_bolt_enabled=true",
            "-e",
            "NEO4J_dbms_ssl_policy_bolt_base__directory=/ssl/bolt",
            "-e",
            "NEO4J_dbms_ssl_policy_bolt_private__key=private.key",
            "-e",
            "NEO4J_dbms_ssl_policy_bolt_public__certificate=public.crt",
            "-e",
            "NEO4J_dbms_ssl_policy_bolt_client__auth=NONE",
            "-e",
            f"NEO4J_server_memory_heap_max__size={heap}",
            "-e",
            f"NEO4J_server_memory_pagecache_size={pagecache}",
            f"neo4j:{NEO4J_VERSION}-community",
        ]
        out = _run(cmd, timeout=900)
        if out.returncode != 0:
            raise RuntimeUnavailable("docker could not start Neo4j: " + out.stderr.strip()[-500:])
        self._save_state(runtime="docker", container=name, port=port, version=NEO4J_VERSION)
