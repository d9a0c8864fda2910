"""The database side of sealing: the key's fingerprint, the sealed nodes, renames when a
record's confidentiality changes, and ``for_load``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from .. import cypher as C
from .. import records as R
from ..errors import ConfigError, KgError
from .keys import DATE_LEVELS, Keyring, SealKeyError, is_token, key_path, label_for, load_key
from .scrub import Scrubber
from .sealing import Hidden, Sealing

# --- the database side: fingerprint, hidden records, renames ------------------------------

META_QUERY = C.SEAL_FINGERPRINT


def db_fingerprint(store: Any) -> str | None:
    rec = store.read(META_QUERY).records
    return rec[0]["fp"] if rec else None


def _mismatch(db_fp: str, keys: Keyring | None) -> KgError:
    if keys is None:
        return SealKeyError(
            f"this database holds sealed (confidential) records, and there is no sealing key "
            f"in {key_path()}.",
            hint=f"Import the key it was sealed with (fingerprint {db_fp}): "
            "`kg key import FILE`. Without it, sealed values cannot be read or extended.",
        )
    return SealKeyError(
        f"this database was sealed with another key (fingerprint {db_fp}); this "
        f"installation's key is {keys.fingerprint}. One key per database: nothing was written.",
        hint="Import the database's key with `kg key import FILE` (keep a copy of yours with "
        "`kg key export` first), or use another KG_HOME.",
    )


def checked_keys(store: Any, *, create: bool = False) -> tuple[Keyring | None, str | None]:
    """The key and the database's fingerprint; refuses a key that is not the database's."""
    fp = db_fingerprint(store)
    keys = load_key(create=create or False)
    if fp is not None and (keys is None or keys.fingerprint != fp):
        raise _mismatch(fp, keys)
    return keys, fp


def record_fingerprint(store: Any, keys: Keyring) -> None:
    store.write(C.SET_SEAL_FINGERPRINT, {"fp": keys.fingerprint})


def sealed_nodes(
    store: Any, keys: Keyring, *, confidential_only: bool = False
) -> dict[str, dict[str, Any]]:
    """{stored id: {"labels", "cases", "confidential", "props" (the sealed originals)}}."""
    out: dict[str, dict[str, Any]] = {}
    res = store.read(C.SEALED_NODES, {"all": not confidential_only})
    for r in res.records:
        opened = keys.unseal(r["sealed"])
        out[r["id"]] = {
            "labels": list(r["labels"]),
            "cases": list(r["cases"] or []),
            "confidential": bool(r["conf"]),
            "props": opened.get("props", {}),
            "records": list(r["records"] or []),
        }
    return out


def hidden_nodes(store: Any) -> dict[str, dict[str, Any]]:
    """The database's confidential records, opened (sealed_nodes), by stored id; none when
    nothing is sealed or this machine lacks the database's key."""
    fp = db_fingerprint(store)
    keys = load_key(create=False) if fp is not None else None
    if keys is None or keys.fingerprint != fp:
        return {}
    return sealed_nodes(store, keys, confidential_only=True)


def hidden_ids(store: Any) -> dict[str, str]:
    """The real ids of the database's confidential records, with their kinds (none without
    its key: the load is refused later, by for_load)."""
    return {n["props"].get("id", sid): _kind(n["labels"]) for sid, n in hidden_nodes(store).items()}


def _confidential_names(keys: Keyring, kind: str, entry: str) -> list[str]:
    """Name and aliases of one case's record (a kg_records entry), if it marks it confidential."""
    _, _, rest = entry.partition(" ")
    body = rest[1:] if rest.startswith("?") else rest
    try:
        record = json.loads(keys.unseal(body) if is_token(body) else body)
    except ValueError:
        return []
    if not isinstance(record, dict) or not record.get("confidential"):
        return []
    return _names(kind, record)


def _says_confidential(keys: Keyring, entry: str) -> bool:
    """Whether one case's record (a kg_records entry, sealed or not) marks it confidential."""
    _, _, rest = entry.partition(" ")
    body = rest[1:] if rest.startswith("?") else rest
    record = keys.unseal(body) if is_token(body) else body
    try:
        return bool(json.loads(record).get("confidential"))
    except (ValueError, AttributeError):
        return True  # unreadable: keep it sealed


def _kind(labels: Iterable[str]) -> str:
    return next((R.KIND_OF_LABEL[lb] for lb in labels if lb in R.KIND_OF_LABEL), "entity")


def _names(kind: str, props: dict[str, Any]) -> list[str]:
    name = props.get(R.NAME_FIELD.get(kind, "name"))
    return ([name] if isinstance(name, str) else []) + [
        a for a in props.get("aliases") or [] if isinstance(a, str)
    ]


def _rename(store: Any, old: str, new: str) -> None:
    """Give a node another id (its confidentiality changed), with the ids edges hold."""
    if store.read(C.ENTITY_EXISTS, {"id": new}).records:
        return
    for statement in C.RENAME:
        store.write(statement, {"old": old, "new": new})


def for_load(
    store: Any, checker: Any, *, dry_run: bool = False, dates: str | None = None
) -> Sealing | None:
    """Prepare sealing for one load, after validation (pass one) and before any row is
    planned; None when nothing is confidential in the input or the database (no work).

    From ``checker`` (kg.validation.Checker): ``confidential`` {real id: (kind, names and
    aliases)}, ``defs`` (the ids the input defines), ``coll.cases`` and ``public_words``.
    A record another loaded case keeps confidential stays sealed; a record whose
    confidentiality changed is renamed in the database (unless ``dry_run``)."""
    confidential: dict[str, tuple[str, list[str]]] = checker.confidential
    input_ids, loaded_cases = checker.defs, checker.coll.cases
    dates = dates or os.environ.get("KG_CONFIDENTIAL_DATES") or "day"
    if dates not in DATE_LEVELS:
        raise ConfigError(
            f"KG_CONFIDENTIAL_DATES / --confidential-dates must be one of "
            f"{', '.join(DATE_LEVELS)}, got {dates!r}"
        )
    fp = db_fingerprint(store)
    if not confidential and fp is None:
        return None
    keys = load_key(create=bool(confidential))
    if fp is not None and (keys is None or keys.fingerprint != fp):
        raise _mismatch(fp, keys)
    assert keys is not None
    loaded = set(loaded_cases)
    hidden: dict[str, Hidden] = {}
    names: dict[str, list[str]] = {}
    renames: list[tuple[str, str]] = []
    if fp is not None:
        for sid, node in sealed_nodes(store, keys, confidential_only=True).items():
            real = node["props"].get("id", sid)
            kind = _kind(node["labels"])
            # Confidential while any case that stays loaded says so (the input's cases
            # replace their records; an unload removes its case's): else public again.
            others = [e for e in node.get("records", []) if e.partition(" ")[0] not in loaded]
            if real not in confidential and not any(_says_confidential(keys, e) for e in others):
                if others or real in input_ids:
                    renames.append((sid, real))  # public now: back to its own id
                    continue
            hidden[real] = Hidden(sid, kind, label_for(kind, sid))
            # The names to hide: those of the records that mark it confidential (the same
            # whichever order cases were loaded in: a public record's other alias is not
            # hidden, docs/reliability.md); none for a record this load removes.
            names[real] = [n for e in others for n in _confidential_names(keys, kind, e)]
    for real, (kind, nm) in confidential.items():
        pid = keys.pid(real)
        hidden[real] = Hidden(pid, kind, label_for(kind, pid))
        names[real] = list(dict.fromkeys([*names.get(real, []), *nm]))
    if confidential:
        clash: dict[str, str] = {}
        for real, h in hidden.items():
            if clash.setdefault(h.pid, real) != real:
                raise SealKeyError(
                    f"two confidential ids share the placeholder {h.pid}; rename one of them"
                )
        for real in sorted(store.kinds_of(list(confidential))):
            renames.append((real, hidden[real].pid))  # confidential now: sealed id
    scrubber = Scrubber()
    common: frozenset[str] = getattr(checker, "public_words", frozenset())
    for real, h in sorted(hidden.items(), key=lambda kv: kv[1].pid):
        scrubber.add(h.kind, h.label, names.get(real, []), [real], common)
    if not dry_run:
        if confidential and fp is None:
            record_fingerprint(store, keys)
        for old, new in renames:
            _rename(store, old, new)
    pending: dict[str, str] = {}
    if dry_run:  # stored id now -> real id, for both directions of a rename
        pids = {h.pid for h in hidden.values()}
        for old, new in renames:  # confidential now: (real, pid); public again: (pid, real)
            pending[old] = old if new in pids else new
    pids = {h.pid for h in hidden.values()}
    renamed = sorted({old if new in pids else new for old, new in renames})
    return Sealing(keys, hidden, scrubber, dates, pending, renamed)


def sealed_judgements(store: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Resolution judgements (``:Judgement`` rows, kg.resolve_store) as they may be stored: one
    that names a confidential record, by its id or in its ``why``, holds the placeholder ids
    (and a key made of them) and its ``why`` sealed; the others as they are."""
    from .messages import hidden_scrubber

    scrubber, ids = hidden_scrubber(store)
    if not ids:
        return rows
    keys, _fp = checked_keys(store)
    assert keys is not None
    out = []
    for r in rows:
        a, b, why = ids.get(r["a"], r["a"]), ids.get(r["b"], r["b"]), r.get("why")
        mentions = isinstance(why, str) and scrubber.mentions_any(why)
        if (a, b) == (r["a"], r["b"]) and not mentions:
            out.append(r)
            continue
        sealed = keys.seal(why) if isinstance(why, str) and why else why
        out.append({**r, "a": a, "b": b, "key": f"{r['decision']}:{a}:{b}", "why": sealed})
    return out
