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


def load_yaml(path: Path) -> Any:
    """Parse ``path`` with line-aware mappings; syntax errors name file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise YamlError(f"{path.name}: cannot read file: {exc.strerror or exc}") from exc
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise YamlError(f"{path.name}: not valid YAML{where}: {exc.problem or exc}") from exc
    except yaml.YAMLError as exc:
        raise YamlError(f"{path.name}: not valid YAML: {exc}") from exc


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
