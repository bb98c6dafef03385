"""Read YAML while remembering where each mapping started.

Forms and codebooks are edited by hand, so a mistake should be reported with the
file *and* the line a reviewer has to look at. PyYAML's safe loader forgets line
numbers once it has built Python objects; this loader keeps the line of every
mapping on the resulting dict (``LocatedDict.line``, 1-based).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class LocatedDict(dict):
    """A dict that also knows the 1-based line its YAML mapping started on."""

    line: int | None = None


class _LineLoader(yaml.SafeLoader):
    """Safe loader whose mappings are :class:`LocatedDict`."""


def _construct_located_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LocatedDict:
    loader.flatten_mapping(node)
    result = LocatedDict()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r}",
                key_node.start_mark,
            )
        result[key] = loader.construct_object(value_node, deep=True)
    return result


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_located_mapping
)


class YamlError(ValueError):
    """The file is not valid YAML; the message names the file and the line."""


#: Deepest nesting of mappings and lists a form may have. Real forms nest a few
#: levels (form > group > fields > field > options); PyYAML builds objects
#: recursively, so 300 nested groups ended in a RecursionError.
MAX_DEPTH = 60


def _decode(path: Path, data: bytes) -> str:
    """UTF-8 text, or an error naming the line of the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlError(
            f"{path.name}: line {line}: not UTF-8 (byte 0x{data[exc.start]:02X} at column "
            f"{column}); save the form as UTF-8 (it looks like Latin-1 or Windows-1252)"
        ) from exc


def _check_depth(text: str, name: str) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH`, found from the event stream (no recursion)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlError(f"{name}: line {event.start_mark.line + 1}: nested more than "
                                f"{MAX_DEPTH} levels deep; a form needs only a few levels")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def load_yaml(path: Path) -> Any:
    """Parse ``path`` with line-aware mappings; every error names the file and the line.

    The file must be UTF-8 (a form saved as Latin-1 says so, with the line) and
    nested at most :data:`MAX_DEPTH` levels.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise YamlError(f"{path.name}: cannot read file: {exc.strerror or exc}") from exc
    text = _decode(path, data)
    try:
        _check_depth(text, path.name)
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise YamlError(f"{path.name}: not valid YAML{where}: {exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise YamlError(f"{path.name}: not valid YAML: {exc}") from exc
    except RecursionError as exc:  # an alias-built structure deeper than the stack
        raise YamlError(f"{path.name}: nested too deeply to read") from exc


def line_of(node: Any) -> int | None:
    """The line a mapping started on, or ``None`` for anything else."""
    return getattr(node, "line", None)


def plain(value: Any) -> Any:
    """Turn located dicts back into ordinary dicts/lists (for dumping and hashing)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
