"""settings.yaml read as plain text values, with the line of every key.

Every scalar is kept as the string written: `070` stays "070" (YAML 1.1 would read an octal 56),
`2026-13-01` reaches the date check instead of crashing the YAML parser, and `no` is not false.
The models decide what each value means, and say so when it does not fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from exact_pipeline.mapping.errors import Problem

KeyPath = tuple[str, ...]


class _TextLoader(yaml.SafeLoader):
    """SafeLoader without implicit typing: plain scalars are strings (an empty value is '')."""


_TextLoader.yaml_implicit_resolvers = {}


@dataclass
class YamlDocument:
    data: dict[str, Any] | None
    key_lines: dict[KeyPath, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, path: tuple[Any, ...]) -> int | None:
        """The line of the deepest key of `path` that the file has (a missing key: its parent)."""
        for depth in range(len(path), 0, -1):
            if (line := self.key_lines.get(tuple(str(p) for p in path[:depth]))) is not None:
                return line
        return None


def read_yaml(text: str, file: str) -> YamlDocument:
    try:
        root = yaml.compose(text, Loader=_TextLoader)
    except yaml.MarkedYAMLError as bad:
        mark = bad.problem_mark
        line = mark.line + 1 if mark else None
        where = f" at column {mark.column + 1}" if mark else ""
        problem = Problem(file, line, None, f"expected valid YAML, got {bad.problem}{where}")
        return YamlDocument(None, problems=[problem])
    if not isinstance(root, yaml.MappingNode):
        got = "nothing" if root is None else f"a {root.id}"  # PyYAML's kinds: scalar, sequence
        problem = Problem(file, None, None, f"expected `key: value` lines, got {got}")
        return YamlDocument(None, problems=[problem])
    document = YamlDocument(yaml.load(text, Loader=_TextLoader))
    _index_keys(root, (), document, file)
    return document


def _index_keys(node: yaml.MappingNode, path: KeyPath, document: YamlDocument, file: str) -> None:
    """Record each key's line; report keys written twice (PyYAML would keep the last silently)."""
    for key_node, value_node in node.value:
        key_path = (*path, str(key_node.value))
        line = key_node.start_mark.line + 1
        if (first := document.key_lines.get(key_path)) is not None:
            again = f"{key_node.value!r} again (first on line {first})"
            message = f"expected each key once, got {again}"
            document.problems.append(Problem(file, line, ".".join(key_path), message))
        document.key_lines[key_path] = line
        if isinstance(value_node, yaml.MappingNode):
            _index_keys(value_node, key_path, document, file)
