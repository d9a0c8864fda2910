"""The exceptions kg raises, as one documented tree.

Every error a user can cause is a :class:`KgError`. The CLI turns each into a message on
stderr and the exit code of its class; nothing else reaches a user as a traceback.

    KgError                      exit 1  anything kg reports on purpose
    ├── InputError               exit 1  records or files that break the record contract
    ├── RemovalRefused           exit 1  removing a case's records would take what another case uses
    ├── UsageError               exit 2  a bad option, parameter or name given to a command
    ├── ConfigError              exit 3  settings that cannot work (environment, KG_HOME)
    ├── RuntimeUnavailable       exit 3  the local Neo4j cannot be provisioned or started
    └── DatabaseError            exit 4  Neo4j refused or failed a request
        ├── ConnectionFailed     exit 4  no server answers, or it rejected the credentials
        ├── WriteRefused         exit 4  a write was attempted in read-only mode
        ├── QueryRefused         exit 4  a query's plan does what its mode forbids (LOAD CSV, ...)
        └── QueryFailed          exit 4  Cypher that the server rejected
            └── QueryTimedOut    exit 4  a query ran past its --timeout; the server stopped it
"""

from __future__ import annotations

from dataclasses import dataclass


class KgError(Exception):
    """Base class: a message that says what went wrong, where, and what to do next."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as the input allows."""

    file: str
    line: int
    record: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.record}: {self.field}: {self.message}"


class InputError(KgError):
    """The input breaks the record contract. Carries every problem found, not just the first."""

    exit_code = 1

    def __init__(self, problems: list[Problem], *, hint: str | None = None):
        self.problems = list(problems)
        n = len(self.problems)
        head = "\n".join(str(p) for p in self.problems)
        summary = f"{n} error{'s' if n != 1 else ''} in the input; nothing was written."
        super().__init__(f"{head}\n{summary}" if head else summary, hint=hint)


class RemovalRefused(KgError):
    """Unloading a case, or reloading it without some record, would delete an entity that
    another case still refers to. Nothing was written."""

    exit_code = 1


class UsageError(KgError):
    exit_code = 2


class ConfigError(KgError):
    exit_code = 3


class RuntimeUnavailable(KgError):
    exit_code = 3


class DatabaseError(KgError):
    exit_code = 4


class ConnectionFailed(DatabaseError):
    pass


class WriteRefused(DatabaseError):
    pass


class QueryRefused(DatabaseError):
    pass


class QueryFailed(DatabaseError):
    pass


class QueryTimedOut(QueryFailed):
    pass
