"""Reading back: unsealing on the client with the key, masking otherwise."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from .. import records as R
from .database import _kind, checked_keys, sealed_nodes
from .keys import PREFIX, SEALED_PROP, Keyring, is_token, label_for

# --- reading back: unsealing on the client, masking otherwise -----------------------------


class Unsealer:
    """Turns query results (plain data, as kg.render.to_plain makes it) back into clear
    values with the key. Built once per command from the database's sealed nodes."""

    def __init__(
        self, keys: Keyring | None, nodes: dict[str, dict[str, Any]], *, plain: bool = True
    ):
        self.keys = keys
        self.plain = plain  # dates as ISO text (rendered rows); else datetime.date (exports)
        self.nodes = nodes  # stored id -> sealed originals (see sealed_nodes)
        self.real: dict[str, str] = {}
        self.labels: dict[str, str] = {}
        for sid, node in nodes.items():
            if node["confidential"]:
                kind = _kind(node["labels"])
                real = node["props"].get("id", sid)
                self.real[sid] = real
                name = node["props"].get(R.NAME_FIELD.get(kind, "name"))
                if isinstance(name, str):
                    self.labels[label_for(kind, sid)] = name
        self._label_re = (
            re.compile("|".join(re.escape(lb) for lb in sorted(self.labels, key=len, reverse=True)))
            if self.labels
            else None
        )

    @classmethod
    def from_store(cls, store: Any, *, plain: bool = True) -> Unsealer:
        keys, fp = checked_keys(store)
        if fp is None or keys is None:
            return cls(keys, {}, plain=plain)
        return cls(keys, sealed_nodes(store, keys), plain=plain)

    def _open(self, token: str) -> Any:
        assert self.keys is not None
        value = self.keys.unseal(token)
        return _iso(value) if self.plain else value

    def rid(self, stored_id: Any) -> Any:
        return self.real.get(stored_id, stored_id) if isinstance(stored_id, str) else stored_id

    def text(self, value: str) -> Any:
        if value.startswith(PREFIX):
            if self.keys is None:
                return value
            return self._open(value)
        if value in self.real:
            return self.real[value]
        if self._label_re is not None and "Confidential " in value:
            return self._label_re.sub(lambda m: self.labels[m.group(0)], value)
        return value

    def props(self, props: dict[str, Any]) -> dict[str, Any]:
        out = {k: self.value(v) for k, v in props.items() if k != SEALED_PROP}
        sealed = props.get(SEALED_PROP)
        if isinstance(sealed, str) and self.keys is not None:
            out.update(self._open(sealed).get("props", {}))
        return out

    def edge_props(self, props: dict[str, Any]) -> dict[str, Any]:
        return {k: self.value(v) for k, v in props.items()}

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            if "labels" in value and "properties" in value:
                return {**value, "properties": self.props(value["properties"])}
            if "type" in value and "start" in value and "properties" in value:
                return {
                    **value,
                    "start": self.rid(value["start"]),
                    "end": self.rid(value["end"]),
                    "properties": self.edge_props(value["properties"]),
                }
            if SEALED_PROP in value:
                return self.props(value)
            return {k: self.value(v) for k, v in value.items()}
        return value


def _iso(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    return value


SEALED_SHOWN = "[sealed]"


def mask(value: Any) -> Any:
    """Results without the key: sealed tokens shown as [sealed], kg_sealed left out."""
    if isinstance(value, str):
        return SEALED_SHOWN if value.startswith(PREFIX) else value
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, dict):
        return {k: mask(v) for k, v in value.items() if k != SEALED_PROP}
    return value


def drop_sealed(props: dict[str, Any]) -> dict[str, Any]:
    """Properties for an export without the key: sealed values left out entirely."""
    out = {}
    for k, v in props.items():
        if k == SEALED_PROP or is_token(v):
            continue
        if isinstance(v, list) and any(is_token(x) for x in v):
            v = [x for x in v if not is_token(x)]
        out[k] = v
    return out
