"""The sealing key, the Keyring that seals and opens values, and what sealing keeps in clear."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any

from .. import records as R
from ..errors import KgError

PREFIX = "kg-sealed:"  # a sealed value stored in place (edges, record lists)
SEALED_PROP = "kg_sealed"  # a node's sealed properties: {"props": {...originals}}
KEY_FILE = "seal.key"
KEY_HEADER = "kg-seal-key-v1"
MIN_BUCKET = 256  # sealed plaintexts are padded to 256, 512, 1024, ... bytes
AAD = b"kg-seal-v1"
PID_PREFIX = "confidential-"
PID_CHARS = 10  # base32 characters of a placeholder id (50 bits)
LABEL_CHARS = 6  # of them shown in the label: "Confidential person 7KQ3M2"

# What a confidential node keeps in the clear (besides its placeholder id and name).
KEPT_PROPS = (
    "confidential",
    "cases",
    "date",
    "start",
    "end",
    "date_precision",
    "published",
    "published_precision",
)
DATE_PROPS = ("date", "start", "end", "published")
DATE_LEVELS = ("day", "month", "year", "none")
# Edge properties that hold entity ids (mapped to placeholders, never scrubbed as text).
ID_PROPS = ("statement", "via")
# Node properties never scrubbed (structure, not text).
NOT_TEXT = (
    "id",
    "cases",
    "confidential",
    "date_precision",
    "published_precision",
    "retrieved_precision",
    SEALED_PROP,
)
# Words of a hidden person's name too common to hide on their own (the full name still is).
# So are kg's own vocabulary (roles, stances, the words of placeholders).
STOP_WORDS = frozenset(
    [
        "al",
        "el",
        "la",
        "le",
        "de",
        "da",
        "del",
        "der",
        "den",
        "di",
        "do",
        "dos",
        "du",
        "van",
        "von",
        "ben",
        "bin",
        "ibn",
        "abu",
        "ul",
        "ur",
        "the",
        "and",
        "of",
        "mr",
        "mrs",
        "ms",
        "dr",
        "jr",
        "sr",
    ]
) | frozenset(
    w
    for group in (
        R.PARTICIPANT_ROLES,
        R.STANCES,
        R.ENTITY_KINDS,
        ("confidential", "name", "sealed", "calls", "for"),
    )
    for item in group
    for w in item.split("-")
)
MIN_WORD = 3


class SealKeyError(KgError):
    exit_code = 3


# --- the key ------------------------------------------------------------------------------


def key_path(home: Path | None = None) -> Path:
    from ..config import kg_home

    return (home or kg_home()) / KEY_FILE


def read_key_file(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError) as e:
        raise SealKeyError(
            f"cannot read the sealing key {path}: {getattr(e, 'strerror', e)}"
        ) from None
    try:
        if len(text) != 2 or text[0] != KEY_HEADER:
            raise ValueError
        key = base64.b64decode(text[1], validate=True)
        if len(key) != 32:
            raise ValueError
    except ValueError:
        raise SealKeyError(
            f"{path} is not a kg sealing key (expected a '{KEY_HEADER}' line)"
        ) from None
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


def load_key(home: Path | None = None, *, create: bool = False) -> Keyring | None:
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
        data = json.dumps(
            value, default=_json_default, ensure_ascii=False, sort_keys=True, separators=(",", ":")
        ).encode("utf-8")
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
            blob = base64.urlsafe_b64decode(token[len(PREFIX) :].encode("ascii"))
            padded = self._aead.decrypt(blob[:12], blob[12:], AAD)
        except (InvalidTag, ValueError) as e:
            raise SealKeyError(
                "a sealed value does not open with this installation's key "
                "(sealed under another key, or damaged)"
            ) from e
        n = int.from_bytes(padded[:4], "big")
        return json.loads(padded[4 : 4 + n].decode("utf-8"), object_hook=_json_hook)

    def pid(self, real_id: str) -> str:
        """The placeholder id of a confidential record: a keyed hash of its id, so it does
        not change when other records are loaded and tells nothing about order or length."""
        digest = hmac.new(self._id_key, real_id.encode("utf-8"), hashlib.sha256).digest()
        return PID_PREFIX + base64.b32encode(digest).decode("ascii")[:PID_CHARS].lower()


def label_for(kind: str, pid: str) -> str:
    return f"Confidential {kind} {pid[len(PID_PREFIX) : len(PID_PREFIX) + LABEL_CHARS].upper()}"


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
