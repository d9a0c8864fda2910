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

The parts, one module each: ``keys`` (the key, the Keyring), ``scrub`` (hidden names in
text), ``sealing`` (mapped rows), ``database`` (fingerprint, sealed nodes, renames,
``for_load``), ``unseal`` (reading back) and ``messages`` (text kg prints). This package
re-exports them all: callers import from ``kg.seal``.
"""

from __future__ import annotations

from .database import (  # noqa: F401
    META_QUERY,
    _kind,
    _mismatch,
    _names,
    _rename,
    _says_confidential,
    checked_keys,
    db_fingerprint,
    for_load,
    hidden_ids,
    record_fingerprint,
    sealed_judgements,
    sealed_nodes,
)
from .keys import (  # noqa: F401
    AAD,
    DATE_LEVELS,
    DATE_PROPS,
    EDGE_DATES,
    EDGE_KEPT,
    EDGE_KEPT_BY_TYPE,
    ID_PROPS,
    KEPT_PROPS,
    KEY_FILE,
    KEY_HEADER,
    LABEL_CHARS,
    MIN_BUCKET,
    MIN_WORD,
    NOT_TEXT,
    PID_CHARS,
    PID_PREFIX,
    PREFIX,
    SEALED_PROP,
    STOP_WORDS,
    TOKEN_RE,
    Keyring,
    SealKeyError,
    _as_text,
    _json_default,
    _json_hook,
    is_token,
    key_path,
    label_for,
    load_key,
    read_key_file,
    write_key_file,
)
from .messages import (  # noqa: F401
    _message_scrubbers,
    _strings,
    forget_messages,
    hidden_scrubber,
    scrub_message,
    stored_id,
    validation_warnings,
)
from .scrub import (  # noqa: F401
    _WORD,
    Scrubber,
    norm,
    scrub_value,
    words,
)
from .sealing import (  # noqa: F401
    _PRECISION_RANK,
    Hidden,
    Sealing,
    _lower,
    open_entry,
)
from .unseal import (  # noqa: F401
    SEALED_SHOWN,
    Unsealer,
    _iso,
    drop_sealed,
    mask,
)
