"""Processes and ports: running commands, whether a port answers, which process is which
(Linux /proc; `ps` elsewhere), and who holds a port kg wanted."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def docker_answers() -> bool:
    docker = shutil.which("docker")
    if not docker:
        return False
    try:
        return _run([docker, "info", "--format", "{{.ServerVersion}}"], timeout=15).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited child not yet reaped) is not running
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


# --- which process is which (Linux /proc; `ps` elsewhere) ---------------------------------

SERVER_CLASS = "org.neo4j.server.CommunityEntryPoint"


def proc_cmdline(pid: int) -> list[str] | None:
    """The command line of a process, None if it cannot be read."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            raw = f.read()
        return [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]
    except FileNotFoundError:
        if Path("/proc/self").exists():
            return None
    except OSError:
        return None
    try:  # no /proc (macOS): ps
        out = _run(["ps", "-ww", "-o", "command=", "-p", str(pid)], timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.split() if out.returncode == 0 and out.stdout.strip() else None


def proc_start_time(pid: int) -> int | None:
    """When a process started (clock ticks since boot, /proc/PID/stat field 22); a pid that
    was reused by a newer process has another start time. None without /proc."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def port_owner(port: int) -> str | None:
    """'pid 1234 (python3 fake.py)' for the process listening on 127.0.0.1:port, when this
    user may see it (Linux: /proc/net/tcp and /proc/PID/fd); None otherwise. Racy: used only
    to say more in an error message, never to decide anything."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as f:
                next(f, None)
                for line in f:
                    cols = line.split()
                    if (
                        len(cols) > 9
                        and cols[3] == "0A"
                        and int(cols[1].rsplit(":", 1)[1], 16) == port
                    ):
                        inodes.add(cols[9])
        except (OSError, ValueError):
            continue
    if not inodes:
        return None
    wanted = {f"socket:[{i}]" for i in inodes}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd) in wanted:
                    cmd = " ".join(proc_cmdline(int(entry.name)) or [])[:120]
                    return f"pid {entry.name} ({cmd or '?'})"
        except OSError:
            continue
    return None


def squatter_message(port: int) -> str:
    owner = port_owner(port)
    return (
        f"port {port} on 127.0.0.1 is held by "
        + (f"another program, {owner}" if owner else "another program")
        + ", not by kg's Neo4j; kg did not send it the password"
    )
