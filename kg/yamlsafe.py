"""YAML with the limits of record files: alias expansion ("billion laughs"), nesting depth,
no merge keys, no duplicate keys, no NUL; the line of every key. For records (kg.readers)
and every other YAML kg reads (saved query headers, sheet mappings, judgements)."""

from __future__ import annotations

import re
from typing import Any

import yaml

MAX_DEPTH = 64  # nesting deeper than any record needs
MAX_EXPANSION = 100_000  # nodes re-visited through YAML aliases ("billion laughs")
Path_ = tuple[Any, ...]


_STR = "tag:yaml.org,2002:str"
# The tag of a plain scalar depends on its text alone (the resolvers below are fixed): a
# file's keys and repeated values are resolved once (the parser asks for every scalar).
_PLAIN_TAGS: dict[str, str] = {}


class _Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """Safe loader with YAML 1.2-like scalars: yes/no/on/off stay text, dates stay text."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and not self.yaml_path_resolvers:
            if not implicit[0]:
                return _STR  # quoted: text
            tag = _PLAIN_TAGS.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(value) <= 64 and len(_PLAIN_TAGS) < 1 << 16:
                    _PLAIN_TAGS[value] = tag
            return tag
        return super().resolve(kind, value, implicit)


_Loader.yaml_implicit_resolvers = {}
for _first, _resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items():
    for _tag, _regexp in _resolvers:
        if _tag in (
            "tag:yaml.org,2002:bool",
            "tag:yaml.org,2002:int",
            "tag:yaml.org,2002:timestamp",
        ):
            continue
        _Loader.yaml_implicit_resolvers.setdefault(_first, []).append((_tag, _regexp))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?(?:0|[1-9][0-9]*))$"), list("-+0123456789")
)


class _YamlProblem(Exception):
    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


class _Walker:
    def __init__(self, loader: yaml.Loader):
        self.loader = loader
        self.budget = MAX_EXPANSION
        self.seen: set[int] = set()
        self.lines: dict[Path_, int] = {}

    def value(self, node: yaml.Node, path: Path_, depth: int = 0) -> Any:
        if id(node) in self.seen:
            self.budget -= 1
        else:
            self.seen.add(id(node))
        if self.budget < 0:
            raise _YamlProblem(
                node.start_mark.line + 1,
                "the document expands to too much data (YAML aliases nested "
                "like a 'billion laughs' bomb?)",
            )
        if depth > MAX_DEPTH:
            raise _YamlProblem(
                node.start_mark.line + 1, f"nesting deeper than {MAX_DEPTH} levels is not a record"
            )
        if node.tag == _STR and isinstance(node, yaml.ScalarNode):
            return node.value  # text, as the constructor would give it (quicker)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise _YamlProblem(key_node.start_mark.line + 1, "a key must be plain text")
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise _YamlProblem(
                        key_node.start_mark.line + 1,
                        "YAML merge keys (<<) are not supported in records",
                    )
                key = (
                    key_node.value
                    if key_node.tag == _STR
                    else self.loader.construct_object(key_node)
                )
                if not isinstance(key, str):
                    key = str(key)
                line = key_node.start_mark.line + 1
                if key in out:
                    raise _YamlProblem(line, f"duplicate key {key!r} in one mapping")
                self.lines[path + (key,)] = line
                out[key] = self.value(value_node, path + (key,), depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, item in enumerate(node.value):
                self.lines[path + (i,)] = item.start_mark.line + 1
                items.append(self.value(item, path + (i,), depth + 1))
            return items
        value = self.loader.construct_object(node, deep=True)
        if isinstance(value, bytes):
            raise _YamlProblem(node.start_mark.line + 1, "binary values are not supported")
        return value


class YamlLimitError(ValueError):
    """A YAML text that breaks the limits of record files; ``line`` is 1-based."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


def load_limited_yaml(
    text: str, *, record_scalars: bool = True, lines: dict[Path_, int] | None = None
) -> Any:
    """YAML with the limits of record files (alias expansion, depth, no merge keys, no
    duplicate keys, no NUL), for other YAML kg reads: saved query headers, sheet mappings.
    ``record_scalars``: yes/no and dates stay text as in records; False: YAML 1.1 scalars
    (what ``yaml.safe_load`` gives). ``lines``, if given, receives the line of every key and
    list item by its path. Raises YamlLimitError with the line."""
    if "\x00" in text:
        raise YamlLimitError(text[: text.index("\x00")].count("\n") + 1, "NUL byte in YAML")
    base: Any = yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader
    loader = _Loader(text) if record_scalars else base(text)
    try:
        root = loader.get_single_node()
        walker = _Walker(loader)
        data = walker.value(root, ()) if root is not None else None
        if lines is not None:
            lines.update(walker.lines)
        return data
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        what = " ".join(x for x in (e.context, e.problem) if x)
        raise YamlLimitError(mark.line + 1 if mark else 1, f"malformed YAML: {what}") from None
    except yaml.YAMLError as e:
        raise YamlLimitError(1, f"malformed YAML: {e}") from None
    except _YamlProblem as e:
        raise YamlLimitError(e.line, e.message) from None
    except RecursionError:
        raise YamlLimitError(1, "malformed YAML: nested too deeply") from None
    finally:
        loader.dispose()
