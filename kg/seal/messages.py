"""Text kg itself prints (titles, messages): hidden names replaced, and typed ids turned
into the ids the database holds."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .. import cypher as C
from .. import records as R
from .database import _kind, _names, db_fingerprint, hidden_nodes
from .keys import label_for, load_key
from .scrub import Scrubber

# --- text kg itself prints (titles, messages) -------------------------------------------

_message_scrubbers: list[Callable[[str], str]] = []


def hidden_scrubber(store: Any) -> tuple[Scrubber, dict[str, str]]:
    """A scrubber for everything confidential in the database (needs the key), and
    {real id: stored id}. Empty when nothing is sealed or the key is not here."""
    scrubber, ids = Scrubber(), dict[str, str]()
    nodes = hidden_nodes(store)
    if not nodes:
        return scrubber, ids
    for sid, node in sorted(nodes.items()):
        kind = _kind(node["labels"])
        real = node["props"].get("id", sid)
        ids[real] = sid
        scrubber.add(kind, label_for(kind, sid), _names(kind, node["props"]), [real])
    _message_scrubbers.append(scrubber.scrub)
    return scrubber, ids


def forget_messages() -> None:
    """A new command: no hidden name known yet."""
    _message_scrubbers.clear()


def scrub_message(text: str) -> str:
    """An error message or title with every hidden name this command knows replaced."""
    for fn in _message_scrubbers:
        text = fn(text)
    return text


def stored_id(store: Any, given: str, *, opened: bool = True) -> str:
    """The id to look up for an id a user typed: a confidential record's placeholder when
    the user gave its real id (needs the key), else the id itself. ``opened`` False (no
    --include-confidential): the id itself, so a guessed real id finds nothing, as an id
    that does not exist (no way to confirm a guess)."""
    if not opened or store.read(C.ENTITY_EXISTS, {"id": given}).records:
        return given
    keys = load_key()
    if keys is None or db_fingerprint(store) != keys.fingerprint:
        return given
    pid = keys.pid(given)
    if store.read(C.ENTITY_EXISTS, {"id": pid}).records:
        hidden_scrubber(store)  # messages from now on hide it
        return pid
    return given


def validation_warnings(coll: Any) -> list[str]:
    """`kg validate`: public text that mentions a confidential record (it will be scrubbed
    at load time, but the curator should know)."""
    from ..validation import name_words

    scrubber = Scrubber()
    conf = {eid: ent for eid, ent in coll.entities.items() if ent.model.confidential}
    if not conf:
        return []
    common = {
        w
        for pid_, ent in coll.entities.items()
        if ent.kind == "person" and pid_ not in conf
        for name in (ent.model.name, *ent.model.aliases)
        for w in name_words(name)
    }
    for eid, ent in conf.items():
        m = ent.model
        scrubber.add(ent.kind, eid, [getattr(m, R.NAME_FIELD[ent.kind]), *m.aliases], [eid], common)
    out = []
    for eid, ent in coll.entities.items():
        if eid in conf:
            continue
        for fname, value in _strings(ent.model.model_dump(mode="json", by_alias=True)):
            if value in conf:
                continue  # a reference: structure, kept
            hits = scrubber.mentions(value)
            if hits:
                out.append(
                    f"{ent.raw.file}:{ent.raw.line_of((fname.split('.')[0],))}: {eid}: "
                    f"{fname}: mentions confidential record {', '.join(hits)}; it will "
                    "be replaced by a placeholder when loaded"
                )
    for rel in coll.relations:
        for fname, value in _strings(rel.model.model_dump(mode="json", by_alias=True)):
            hits = [] if value in conf else scrubber.mentions(value)
            if hits:
                out.append(
                    f"{rel.raw.file}:{rel.raw.line}: {rel.raw.label}: {fname}: mentions "
                    f"confidential record {', '.join(hits)}"
                )
    return out


def _strings(obj: Any, path: str = "") -> Iterable[tuple[str, str]]:
    if isinstance(obj, str):
        yield path, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if k in ("id", "confidential"):
                continue
            yield from _strings(v, f"{path}.{k}" if path else k)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _strings(v, f"{path}[{i}]")
