"""Sealing: confidential records reach the database encrypted, never in the clear.

A record marked ``confidential: true`` (a witness, a detainee, a source inside a country)
keeps in the graph only its kind, a placeholder, its dates (at the precision the curator
chooses, ``--confidential-dates``), ``cases`` and its relationships. Everything else - id,
name, aliases, description, text, coordinates, nationality, tags, url, hashes, ``extra_*``
- is encrypted with AES-GCM under a key kept in ``$KG_HOME/seal.key`` (mode 0600, made on
first use) and stored in one ``kg_sealed`` property, padded to a size bucket. Mentions of a
hidden person's name (any word of it, whatever its letter case or Unicode form) and of any
hidden record's full name, alias or id inside other records are replaced by the
placeholder; the original text is sealed alongside. Quotes citing a confidential record or
carried by a confidential source are sealed in place.

What a query sees without the key: placeholders ("Confidential person 7KQ3M2"), dates,
structure, and ``kg-sealed:...`` tokens. ``--include-confidential`` unseals on the client
(:class:`Unsealer`); the server never sees clear text.

The loader calls :func:`for_load` once per load (it returns None when nothing is
confidential: no work) and :meth:`Sealing.rows` on every chunk of mapped rows, before
planning. See docs/reliability.md for the threat model.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from . import records as R
from .errors import ConfigError, KgError, UsageError
from .mapping import EdgeRow, GraphRows, NodeRow

PREFIX = "kg-sealed:"           # a sealed value stored in place (edges, record lists)
SEALED_PROP = "kg_sealed"       # a node's sealed properties: {"props": {...originals}}
KEY_FILE = "seal.key"
KEY_HEADER = "kg-seal-key-v1"
MIN_BUCKET = 256                # sealed plaintexts are padded to 256, 512, 1024, ... bytes
AAD = b"kg-seal-v1"
PID_PREFIX = "confidential-"
PID_CHARS = 10                  # base32 characters of a placeholder id (50 bits)
LABEL_CHARS = 6                 # of them shown in the label: "Confidential person 7KQ3M2"

# What a confidential node keeps in the clear (besides its placeholder id and name).
KEPT_PROPS = ("confidential", "cases", "date", "start", "end", "date_precision",
              "published", "published_precision")
DATE_PROPS = ("date", "start", "end", "published")
DATE_LEVELS = ("day", "month", "year", "none")
# Edge properties that hold entity ids (mapped to placeholders, never scrubbed as text).
ID_PROPS = ("statement", "via")
# What a relationship that touches a confidential record (either end, the record that makes
# it, or a confidential source it cites) keeps in the clear: ids (as placeholders), dates
# (lowered like the node's), kg's bookkeeping and values from the record format's closed
# vocabularies. Everything else it carries (quote, page, a free-text role, a description,
# anything added later) is sealed in place: an allow-list, so a new property is sealed until
# it is named here. A participant's role is one of R.PARTICIPANT_ROLES (structure, like a
# label); an affiliation's or a relation's role is free text, and sealed.
EDGE_KEPT = ("cases", "sources", *ID_PROPS, "stance", "credibility", "date_precision")
EDGE_DATES = ("date", "start", "end", "accessed")
EDGE_KEPT_BY_TYPE = {"INVOLVED_IN": ("role",)}
# Node properties never scrubbed (structure, not text).
NOT_TEXT = ("id", "cases", "confidential", "date_precision", "published_precision",
            "retrieved_precision", SEALED_PROP)
# Words of a hidden person's name too common to hide on their own (the full name still is).
# So are kg's own vocabulary (roles, stances, the words of placeholders).
STOP_WORDS = frozenset("""
al el la le de da del der den di do dos du van von ben bin ibn abu ul ur the and of mr mrs
ms dr jr sr""".split()) | frozenset(
    w for group in (R.PARTICIPANT_ROLES, R.STANCES, R.ENTITY_KINDS, ("confidential", "name",
                                                                   "sealed", "calls", "for"))
    for item in group for w in item.split("-"))
MIN_WORD = 3


class SealKeyError(KgError):
    exit_code = 3


# --- the key ------------------------------------------------------------------------------

def key_path(home: Optional[Path] = None) -> Path:
    from .config import kg_home

    return (home or kg_home()) / KEY_FILE


def read_key_file(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError) as e:
        raise SealKeyError(f"cannot read the sealing key {path}: {getattr(e, 'strerror', e)}") from None
    try:
        if len(text) != 2 or text[0] != KEY_HEADER:
            raise ValueError
        key = base64.b64decode(text[1], validate=True)
        if len(key) != 32:
            raise ValueError
    except ValueError:
        raise SealKeyError(f"{path} is not a kg sealing key (expected a '{KEY_HEADER}' line)") from None
    return key


def write_key_file(path: Path, key: bytes, *, overwrite: bool = False) -> None:
    """Write a key file readable by its owner only (0600), never through a wider mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, f"{KEY_HEADER} {base64.b64encode(key).decode()}\n".encode())
    finally:
        os.close(fd)


def load_key(home: Optional[Path] = None, *, create: bool = False) -> Optional["Keyring"]:
    """This installation's key; made on first use when ``create``; None if there is none."""
    path = key_path(home)
    if not path.exists():
        if not create:
            return None
        try:
            write_key_file(path, os.urandom(32))
        except FileExistsError:
            pass  # another kg made it at the same moment
    return Keyring(read_key_file(path))


class Keyring:
    """Keys derived from the installation's 32-byte master key."""

    def __init__(self, master: bytes):
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        def sub(name: str) -> bytes:
            return hmac.new(master, b"kg-seal/" + name.encode(), hashlib.sha256).digest()

        self._aead = AESGCM(sub("encrypt"))
        self._nonce_key = sub("nonce")
        self._id_key = sub("placeholder")
        self.fingerprint = sub("fingerprint").hex()[:16]

    # Deterministic: the same value seals to the same token (the nonce is a keyed hash of
    # the padded plaintext), so loading the same input twice writes nothing the second time.
    # It tells that two sealed values are equal, nothing more.
    def seal(self, value: Any) -> str:
        data = json.dumps(value, default=_json_default, ensure_ascii=False,
                          sort_keys=True, separators=(",", ":")).encode("utf-8")
        size = len(data) + 4
        bucket = MIN_BUCKET
        while bucket < size:
            bucket *= 2
        padded = len(data).to_bytes(4, "big") + data + b"\0" * (bucket - size)
        nonce = hmac.new(self._nonce_key, padded, hashlib.sha256).digest()[:12]
        blob = nonce + self._aead.encrypt(nonce, padded, AAD)
        return PREFIX + base64.urlsafe_b64encode(blob).decode("ascii")

    def unseal(self, token: str) -> Any:
        from cryptography.exceptions import InvalidTag

        try:
            blob = base64.urlsafe_b64decode(token[len(PREFIX):].encode("ascii"))
            padded = self._aead.decrypt(blob[:12], blob[12:], AAD)
        except (InvalidTag, ValueError) as e:
            raise SealKeyError("a sealed value does not open with this installation's key "
                            "(sealed under another key, or damaged)") from e
        n = int.from_bytes(padded[:4], "big")
        return json.loads(padded[4:4 + n].decode("utf-8"), object_hook=_json_hook)

    def pid(self, real_id: str) -> str:
        """The placeholder id of a confidential record: a keyed hash of its id, so it does
        not change when other records are loaded and tells nothing about order or length."""
        digest = hmac.new(self._id_key, real_id.encode("utf-8"), hashlib.sha256).digest()
        return PID_PREFIX + base64.b32encode(digest).decode("ascii")[:PID_CHARS].lower()


def label_for(kind: str, pid: str) -> str:
    return f"Confidential {kind} {pid[len(PID_PREFIX):len(PID_PREFIX) + LABEL_CHARS].upper()}"


TOKEN_RE = re.compile(re.escape(PREFIX) + r"[A-Za-z0-9_=-]+")


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    return json.dumps(value, default=_json_default, ensure_ascii=False)


def is_token(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    raise TypeError(f"cannot seal a {type(value).__name__}")


def _json_hook(obj: dict) -> Any:
    if len(obj) == 1 and "$date" in obj:
        return dt.date.fromisoformat(obj["$date"])
    return obj


# --- finding hidden names in text ---------------------------------------------------------

_WORD = re.compile(r"\w+")


def norm(text: str) -> str:
    """Compare text as a reader would: letter case, accents and Unicode forms ignored."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", text.casefold())


def words(text: str) -> list[str]:
    return [norm(m.group(0)) for m in _WORD.finditer(text)]


class Scrubber:
    """Replaces mentions of hidden records in text, word by word.

    A hidden *person*'s name and aliases hide each of their words (three letters or more, a
    few particles and words of public people's names aside: "Testov" alone is a mention); every hidden record's full name,
    aliases and id hide as whole word sequences ("Sokiryanskaya's sources within Chechnya"
    hides that phrase, not the word Chechnya)."""

    def __init__(self) -> None:
        self._first: dict[str, list[int]] = {}  # first word -> phrase lengths, longest first
        self.owner: dict[tuple[str, ...], str] = {}  # phrase -> label
        self._ids: dict[str, str] = {}
        self._id_re: Optional[re.Pattern] = None
        self._id_dirty = False

    def __bool__(self) -> bool:
        return bool(self._first or self._ids)

    def add(self, kind: str, label: str, names: Iterable[str], ids: Iterable[str] = (),
            common: Any = frozenset()) -> None:
        """``common``: words that stay visible alone (words of public people's names)."""
        phrases: set[tuple[str, ...]] = set()
        for name in names:
            if not isinstance(name, str):
                continue
            seq = tuple(words(name))
            if seq:
                phrases.add(seq)
            if kind == "person":
                phrases.update((w,) for w in seq if len(w) >= MIN_WORD and w not in STOP_WORDS
                               and not w.isdigit() and w not in common)
        for rid in ids:  # an id is hidden where it is written as an id
            self._ids.setdefault(rid.lower(), label)
            self._id_dirty = True
        for seq in phrases:
            if seq in self.owner:
                continue
            self.owner[seq] = label
            lens = self._first.setdefault(seq[0], [])
            if len(seq) not in lens:
                lens.append(len(seq))
                lens.sort(reverse=True)

    def _ids_re(self) -> Optional[re.Pattern]:
        if self._id_dirty:
            self._id_re = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(
                re.escape(i) for i in sorted(self._ids, key=len, reverse=True))
                + r")(?![A-Za-z0-9])", re.IGNORECASE)
            self._id_dirty = False
        return self._id_re

    def _spans(self, text: str) -> list[tuple[int, int, str]]:
        id_re = self._ids_re()
        if id_re is not None:
            hits = [(m.start(), m.end(), self._ids[m.group(0).lower()])
                    for m in id_re.finditer(text)]
            if hits:
                rest = self._word_spans(text)
                return sorted(hits + [w for w in rest if not any(
                    w[0] < h[1] and h[0] < w[1] for h in hits)])
        return self._word_spans(text)

    def _word_spans(self, text: str) -> list[tuple[int, int, str]]:
        # Most text mentions no one: a cheap test first (C-speed for ASCII text).
        if text.isascii():
            if self._first.keys().isdisjoint(_WORD.findall(text.lower())):
                return []
        elif self._first.keys().isdisjoint(words(text)):
            return []
        toks = [(m.start(), m.end(), norm(m.group(0))) for m in _WORD.finditer(text)]
        out: list[tuple[int, int, str]] = []
        i = 0
        while i < len(toks):
            hit = None
            for n in self._first.get(toks[i][2], ()):
                if i + n <= len(toks):
                    label = self.owner.get(tuple(t[2] for t in toks[i:i + n]))
                    if label is not None:
                        hit = (n, label)
                        break
            if hit is None:
                i += 1
                continue
            n, label = hit
            start, end = toks[i][0], toks[i + n - 1][1]
            if out and out[-1][2] == label and not text[out[-1][1]:start].strip(" -'’"):
                out[-1] = (out[-1][0], end, label)  # "Zelimkhan Testov": one placeholder
            else:
                out.append((start, end, label))
            i += n
        return out

    def scrub(self, text: str) -> str:
        if not self or not text:
            return text
        spans = self._spans(text)
        if not spans:
            return text
        parts, pos = [], 0
        for start, end, label in spans:
            parts.append(text[pos:start])
            parts.append(label)
            pos = end
        parts.append(text[pos:])
        return "".join(parts)

    def mentions(self, text: str) -> list[str]:
        """The labels of the hidden records a text mentions."""
        if not self or not isinstance(text, str):
            return []
        return list(dict.fromkeys(s[2] for s in self._spans(text)))


def scrub_value(scrubber: Scrubber, value: Any) -> Any:
    if isinstance(value, str):
        return scrubber.scrub(value)
    if isinstance(value, list):
        return [scrub_value(scrubber, v) for v in value]
    return value


# --- sealing mapped rows (the one step the loader calls) ------------------------------------

@dataclass
class Hidden:
    pid: str
    kind: str
    label: str
    names: list[str] = field(default_factory=list)


def _lower(value: Any, level: str, last: bool) -> Any:
    """A date at a lower precision: the first (or last) day of its month or year."""
    if not isinstance(value, dt.date) or level == "day":
        return value
    if level == "month":
        if last:
            nxt = (value.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            return nxt - dt.timedelta(days=1)
        return value.replace(day=1)
    return value.replace(month=12, day=31) if last else value.replace(month=1, day=1)


_PRECISION_RANK = {"day": 0, "month": 1, "year": 2}


@dataclass
class Sealing:
    """What one load seals: its keys, the hidden records (real id -> placeholder) of the
    input and of the database, and the scrubber made from their names."""
    keys: Keyring
    hidden: dict[str, Hidden]
    scrubber: Scrubber
    dates: str = "day"
    # Renames not made yet (a dry run, or before the load may still be refused): the id each
    # renamed record has in the database now. Empty once for_load has renamed them.
    pending: dict[str, str] = field(default_factory=dict)   # stored id now -> real id
    renamed: list[str] = field(default_factory=list)   # real ids whose confidentiality changed
    _real: dict[str, str] = field(default_factory=dict)
    _now: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._real = {h.pid: rid for rid, h in self.hidden.items()}
        self._now = {real: stored for stored, real in self.pending.items()}

    def sid(self, real_id: str) -> str:
        """The id a record has in the database: its placeholder when it is confidential."""
        now = self._now.get(real_id)
        if now is not None:
            return now
        h = self.hidden.get(real_id)
        return h.pid if h is not None else real_id

    def real_id(self, stored_id: str) -> str:
        return self.pending.get(stored_id) or self._real.get(stored_id, stored_id)

    def is_hidden(self, stored_id: str) -> bool:
        return stored_id in self._real

    def rows(self, rows: GraphRows) -> GraphRows:
        """The rows as they may reach the database. Pure: the same rows give the same result."""
        return GraphRows(nodes=[self.node(n) for n in rows.nodes],
                         edges=[self.edge(e) for e in rows.edges])

    def _dates(self, props: dict[str, Any], out: dict[str, Any]) -> None:
        level = self.dates
        if level == "none":
            return
        for k in DATE_PROPS:
            if k in props:
                out[k] = _lower(props[k], level, last=(k == "end"))
        for k in ("date_precision", "published_precision"):
            if k in props:
                old = props[k]
                out[k] = old if _PRECISION_RANK.get(old, 0) >= _PRECISION_RANK.get(level, 0) else level
        if level != "day" and "date" in props:
            out["start"] = _lower(props["date"], level, last=False)
            out["end"] = _lower(props["date"], level, last=True)

    def node(self, row: NodeRow) -> NodeRow:
        h = self.hidden.get(row.id)
        props = row.props
        if h is not None:
            out: dict[str, Any] = {"id": h.pid, R.NAME_FIELD[h.kind]: h.label, "confidential": True}
            if "cases" in props:  # kept in the clear (KEPT_PROPS): which cases hold it
                out["cases"] = props["cases"]
            self._dates(props, out)
            if isinstance(props.get("kg_conflict_field"), list):
                # Listed by `conflicts` (issue 12): fields and cases in the clear, values
                # sealed (the names of `extra` keys are the record's own text: sealed too).
                out["kg_conflict_field"] = [self.keys.seal(f) if f.startswith("extra.") else f
                                            for f in props["kg_conflict_field"]]
                out["kg_conflict_case"] = props["kg_conflict_case"]
                out["kg_conflict_value"] = [self.keys.seal(v) for v in props["kg_conflict_value"]]
            sealed = {k: v for k, v in props.items() if k not in out or out[k] != v}
            sealed["id"] = row.id
            out[SEALED_PROP] = self.keys.seal({"props": sealed})
            if "kg_records" in props:  # issue 12: each case's record, sealed
                out["kg_records"] = [self.seal_entry(r) for r in props["kg_records"]]
                sealed.pop("kg_records", None)
                out[SEALED_PROP] = self.keys.seal({"props": sealed})
            return NodeRow(h.pid, row.label, out, row.cases)
        changed: dict[str, Any] = {}
        out = dict(props)
        for k, v in props.items():
            if k in NOT_TEXT or k == "kg_records" or not isinstance(v, (str, list)):
                continue
            new = scrub_value(self.scrubber, v)
            if new != v:
                changed[k] = v
                out[k] = new
        if isinstance(props.get("kg_records"), list):  # issue 12: whole records sealed
            out["kg_records"] = [self.seal_entry(r) if self._mentions_any(r) else r
                                 for r in props["kg_records"]]
        if isinstance(props.get("kg_conflict_value"), list):
            out["kg_conflict_value"] = [self.keys.seal(r) if self._mentions_any(r) else r
                                        for r in props["kg_conflict_value"]]
        if not changed:
            return row if out == props else NodeRow(row.id, row.label, out, row.cases)
        out[SEALED_PROP] = self.keys.seal({"props": changed})
        return NodeRow(row.id, row.label, out, row.cases)

    def seal_entry(self, entry: str) -> str:
        """A case's record in ``kg_records`` ("case-id {json}", kg.contributions), sealed but
        for its case id (and its "if missing" mark): loads and unloads still see whose it is."""
        case, _, rest = entry.partition(" ")
        weak = rest.startswith("?")
        return case + " " + ("?" if weak else "") + self.keys.seal(rest[1:] if weak else rest)

    def _mentions_any(self, value: Any) -> bool:
        if isinstance(value, str):
            if value in self.hidden or self.scrubber.mentions(value):
                return True
            try:
                decoded = json.loads(value) if value[:1] in "{[\"" else None
            except ValueError:
                return False
            return decoded is not None and decoded != value and self._mentions_any(decoded)
        if isinstance(value, dict):
            return any(self._mentions_any(v) for v in value.values())
        if isinstance(value, list):
            return any(self._mentions_any(v) for v in value)
        return False

    def edge(self, e: EdgeRow) -> EdgeRow:
        start, end = self.sid(e.start), self.sid(e.end)
        owner = self.sid(e.owner) if e.owner is not None else None
        hidden_end = (e.start in self.hidden or e.end in self.hidden
                      or (e.owner is not None and e.owner in self.hidden))
        if e.owner is None and not hidden_end:
            hidden_end = any(s in self.hidden for s in e.props.get("sources", ()))
        kept = EDGE_KEPT_BY_TYPE.get(e.type, ())
        props: dict[str, Any] = {}
        for k, v in e.props.items():
            if k in ID_PROPS and isinstance(v, str):
                props[k] = self.sid(v)
            elif k == "sources":
                props[k] = [self.sid(s) for s in v]
            elif k == "kg_records" and isinstance(v, list):
                props[k] = [self.seal_entry(r) if hidden_end or self._mentions_any(r) else r
                            for r in v]
            elif k == "cases":
                props[k] = v
            elif hidden_end and k in EDGE_DATES:
                if self.dates == "day":
                    props[k] = v
                elif self.dates != "none":
                    props[k] = _lower(v, self.dates, last=(k == "end"))
            elif hidden_end and k not in EDGE_KEPT and k not in kept:
                props[k] = v if is_token(v) else self.keys.seal(v)
            elif isinstance(v, str) and self.scrubber.mentions(v):
                props[k] = self.keys.seal(v)
            else:
                props[k] = v
        if start == e.start and end == e.end and owner == e.owner and props == e.props:
            return e
        return EdgeRow(e.type, start, end, props, owner)


def open_entry(kind: str, entry: str, sealing: Optional["Sealing"]) -> Any:
    """A case's record read back from ``kg_records``, opened with the key when sealed."""
    from .contributions import Definition

    case, _, rest = entry.partition(" ")
    weak = rest.startswith("?")
    body = rest[1:] if weak else rest
    if not is_token(body):
        return Definition.from_entry(kind, entry)
    if sealing is None:
        raise SealKeyError("this database holds sealed records, and no key opens them here",
                           hint="Import the key with `kg key import` (docs/reliability.md).")
    import orjson

    opened = sealing.keys.unseal(body)  # the entry's JSON, as kg.contributions wrote it
    return Definition(case, kind, orjson.loads(opened), weak,
                      _entry=case + " " + ("?" if weak else "") + opened)


# --- the database side: fingerprint, hidden records, renames ------------------------------

META_QUERY = "MATCH (m:KgMeta {id: 'kg'}) RETURN m.seal_fingerprint AS fp"


def db_fingerprint(store: Any) -> Optional[str]:
    rec = store.read(META_QUERY).records
    return rec[0]["fp"] if rec else None


def _mismatch(db_fp: str, keys: Optional[Keyring]) -> KgError:
    if keys is None:
        return SealKeyError(
            f"this database holds sealed (confidential) records, and there is no sealing key "
            f"in {key_path()}.",
            hint=f"Import the key it was sealed with (fingerprint {db_fp}): "
                 "`kg key import FILE`. Without it, sealed values cannot be read or extended.")
    return SealKeyError(
        f"this database was sealed with another key (fingerprint {db_fp}); this "
        f"installation's key is {keys.fingerprint}. One key per database: nothing was written.",
        hint="Import the database's key with `kg key import FILE` (keep a copy of yours with "
             "`kg key export` first), or use another KG_HOME.")


def checked_keys(store: Any, *, create: bool = False) -> tuple[Optional[Keyring], Optional[str]]:
    """The key and the database's fingerprint; refuses a key that is not the database's."""
    fp = db_fingerprint(store)
    keys = load_key(create=create or False)
    if fp is not None and (keys is None or keys.fingerprint != fp):
        raise _mismatch(fp, keys)
    return keys, fp


def record_fingerprint(store: Any, keys: Keyring) -> None:
    store.write("MERGE (m:KgMeta {id: 'kg'}) SET m.seal_fingerprint = $fp",
                {"fp": keys.fingerprint})


def sealed_nodes(store: Any, keys: Keyring, *, confidential_only: bool = False
                 ) -> dict[str, dict[str, Any]]:
    """{stored id: {"labels", "cases", "confidential", "props" (the sealed originals)}}."""
    where = "n.kg_sealed IS NOT NULL" + (" AND n.confidential = true" if confidential_only else "")
    out: dict[str, dict[str, Any]] = {}
    res = store.read(f"MATCH (n:Entity) WHERE {where} RETURN n.id AS id, labels(n) AS labels, "
                     "n.cases AS cases, n.confidential AS conf, n.kg_sealed AS sealed, "
                     "n.kg_records AS records")
    for r in res.records:
        opened = keys.unseal(r["sealed"])
        out[r["id"]] = {"labels": list(r["labels"]), "cases": list(r["cases"] or []),
                        "confidential": bool(r["conf"]), "props": opened.get("props", {}),
                        "records": list(r["records"] or [])}
    return out


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
    return ([name] if isinstance(name, str) else []) + [a for a in props.get("aliases") or []
                                                          if isinstance(a, str)]


def _rename(store: Any, old: str, new: str) -> None:
    """Give a node another id (its confidentiality changed), with the ids edges hold."""
    if store.read("MATCH (n:Entity {id: $new}) RETURN n.id", {"new": new}).records:
        return
    store.write("MATCH (n:Entity {id: $old}) SET n.id = $new", {"old": old, "new": new})
    store.write("MATCH ()-[r:DENIED {statement: $old}]->() SET r.statement = $new",
                {"old": old, "new": new})
    store.write("MATCH ()-[r:SAID {via: $old}]->() SET r.via = $new", {"old": old, "new": new})
    store.write("MATCH ()-[r]->() WHERE $old IN r.sources "
                "SET r.sources = [s IN r.sources | CASE s WHEN $old THEN $new ELSE s END]",
                {"old": old, "new": new})


def for_load(store: Any, checker: Any, *, dry_run: bool = False, dates: Optional[str] = None
             ) -> Optional[Sealing]:
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
        raise ConfigError(f"KG_CONFIDENTIAL_DATES / --confidential-dates must be one of "
                          f"{', '.join(DATE_LEVELS)}, got {dates!r}")
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
            # whichever order cases were loaded in); none for a record this load removes.
            names[real] = [n for e in others for n in _confidential_names(keys, kind, e)]
    for real, (kind, nm) in confidential.items():
        pid = keys.pid(real)
        hidden[real] = Hidden(pid, kind, label_for(kind, pid))
        names[real] = list(dict.fromkeys([*names.get(real, []), *nm]))
    if confidential:
        clash: dict[str, str] = {}
        for real, h in hidden.items():
            if clash.setdefault(h.pid, real) != real:
                raise SealKeyError(f"two confidential ids share the placeholder {h.pid}; "
                                "rename one of them")
        for real in sorted(store.kinds_of(list(confidential))):
            renames.append((real, hidden[real].pid))  # confidential now: sealed id
    scrubber = Scrubber()
    common = getattr(checker, "public_words", frozenset())
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


# --- reading back: unsealing on the client, masking otherwise -----------------------------

class Unsealer:
    """Turns query results (plain data, as kg.render.to_plain makes it) back into clear
    values with the key. Built once per command from the database's sealed nodes."""

    def __init__(self, keys: Optional[Keyring], nodes: dict[str, dict[str, Any]], *,
                 plain: bool = True):
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
        self._label_re = (re.compile("|".join(re.escape(lb) for lb in
                                              sorted(self.labels, key=len, reverse=True)))
                          if self.labels else None)

    @classmethod
    def from_store(cls, store: Any, *, plain: bool = True) -> "Unsealer":
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
            if TOKEN_RE.fullmatch(value):
                return self._open(value)
        if PREFIX in value and self.keys is not None:
            # A token inside text a query built ('ASSOCIATED_WITH (' + r.role + ')').
            value = TOKEN_RE.sub(lambda m: _as_text(self._open(m.group(0))), value)
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
                return {**value, "start": self.rid(value["start"]), "end": self.rid(value["end"]),
                        "properties": self.edge_props(value["properties"])}
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
    """Results without the key: sealed tokens shown as [sealed] (also inside text a query
    built from one), kg_sealed left out."""
    if isinstance(value, str):
        if value.startswith(PREFIX) and TOKEN_RE.fullmatch(value):
            return SEALED_SHOWN
        return TOKEN_RE.sub(SEALED_SHOWN, value) if PREFIX in value else value
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, dict):
        return {k: mask(v) for k, v in value.items() if k != SEALED_PROP}
    return value


def drop_sealed(props: dict[str, Any]) -> dict[str, Any]:
    """Properties for an export without the key: sealed values left out entirely (a case's
    sealed record in ``kg_records`` too; and the ``kg_conflict_*`` lists whole when a value
    of them is sealed, as they go in parallel)."""
    out = {}
    for k, v in props.items():
        if k == SEALED_PROP or is_token(v):
            continue
        if k == "kg_records" and isinstance(v, list):
            v = [x for x in v if not (isinstance(x, str) and PREFIX in x)]
        elif isinstance(v, list) and any(is_token(x) for x in v):
            if k.startswith("kg_conflict_"):
                continue
            v = [x for x in v if not is_token(x)]
        out[k] = v
    if "kg_conflict_field" in out and not all(
            k in out for k in ("kg_conflict_field", "kg_conflict_case", "kg_conflict_value")):
        for k in ("kg_conflict_field", "kg_conflict_case", "kg_conflict_value"):
            out.pop(k, None)
    return out


# --- text kg itself prints (titles, messages) -------------------------------------------

_message_scrubbers: list[Callable[[str], str]] = []


def hidden_scrubber(store: Any) -> tuple[Scrubber, dict[str, str]]:
    """A scrubber for everything confidential in the database (needs the key), and
    {real id: stored id}. Empty when nothing is sealed or the key is not here."""
    scrubber, ids = Scrubber(), {}
    fp = db_fingerprint(store)
    keys = load_key()
    if fp is None or keys is None or keys.fingerprint != fp:
        return scrubber, ids
    for sid, node in sorted(sealed_nodes(store, keys, confidential_only=True).items()):
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


def stored_id(store: Any, given: str) -> str:
    """The id to look up for an id a user typed: a confidential record's placeholder when
    the user gave its real id (needs the key), else the id itself."""
    if store.read("MATCH (n:Entity {id: $id}) RETURN n.id", {"id": given}).records:
        return given
    keys = load_key()
    if keys is None or db_fingerprint(store) != keys.fingerprint:
        return given
    pid = keys.pid(given)
    if store.read("MATCH (n:Entity {id: $id}) RETURN n.id", {"id": pid}).records:
        hidden_scrubber(store)  # messages from now on hide it
        return pid
    return given


def validation_warnings(coll: Any) -> list[str]:
    """`kg validate`: public text that mentions a confidential record (it will be scrubbed
    at load time, but the curator should know)."""
    from .validation import name_words

    scrubber = Scrubber()
    conf = {eid: ent for eid, ent in coll.entities.items() if ent.model.confidential}
    if not conf:
        return []
    common = {w for pid_, ent in coll.entities.items() if ent.kind == "person" and pid_ not in conf
              for name in (ent.model.name, *ent.model.aliases) for w in name_words(name)}
    for eid, ent in conf.items():
        m = ent.model
        scrubber.add(ent.kind, eid, [getattr(m, R.NAME_FIELD[ent.kind]), *m.aliases], [eid],
                     common)
    out = []
    for eid, ent in coll.entities.items():
        if eid in conf:
            continue
        for fname, value in _strings(ent.model.model_dump(mode="json", by_alias=True)):
            if value in conf:
                continue  # a reference: structure, kept
            hits = scrubber.mentions(value)
            if hits:
                out.append(f"{ent.raw.file}:{ent.raw.line_of((fname.split('.')[0],))}: {eid}: "
                           f"{fname}: mentions confidential record {', '.join(hits)}; it will "
                           "be replaced by a placeholder when loaded")
    for rel in coll.relations:
        for fname, value in _strings(rel.model.model_dump(mode="json", by_alias=True)):
            hits = [] if value in conf else scrubber.mentions(value)
            if hits:
                out.append(f"{rel.raw.file}:{rel.raw.line}: {rel.raw.label}: {fname}: mentions "
                           f"confidential record {', '.join(hits)}")
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
