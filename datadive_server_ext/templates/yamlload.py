"""Load YAML with the line number of every key and item (PyYAML SafeLoader, no tags).

Template YAML comes from authors the service does not trust, so the loader is bounded: anchors
and aliases are refused (a few hundred bytes of nested aliases expand to gigabytes), and so is
nesting deeper than :data:`MAX_DEPTH` (the composer is recursive). The size limit is the caller's
(see ``model.MAX_TEMPLATE_BYTES``).
"""

from __future__ import annotations

from typing import Any

import yaml

Path = tuple[str | int, ...]

#: deepest nesting of mappings and sequences a template may have (real ones use 4)
MAX_DEPTH = 32


class YamlProblem(ValueError):
    """The text is not valid YAML; ``line`` is 1-based."""

    def __init__(self, line: int, message: str, path: Path = ()):
        super().__init__(message)
        self.line = line
        self.message = message
        self.path = path  # where in the document, when known


class _BoundedLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML has no type hints
    """SafeLoader that refuses anchors, aliases and nesting deeper than ``MAX_DEPTH``, before
    composing the node that would need them."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise YamlProblem(
                event.start_mark.line + 1,
                "anchors (&name) and aliases (*name) are not allowed in templates; "
                "write the value out in full",
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH and isinstance(
                event, yaml.SequenceStartEvent | yaml.MappingStartEvent
            ):
                raise YamlProblem(
                    event.start_mark.line + 1,
                    f"nested more than {MAX_DEPTH} levels deep; templates need only a few levels "
                    "(inputs, then each input's fields)",
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_with_lines(text: str) -> tuple[Any, dict[Path, int], list[YamlProblem]]:
    """Parse ``text`` safely; return the data, a map from key path to 1-based line, and the
    duplicate keys found.

    The map holds the line of each mapping key (``("inputs", 0, "type")``) and sequence item.
    Duplicate keys are problems (PyYAML would silently keep the last one); they are returned
    rather than raised so that the rest of the document is still checked. Text that is not YAML
    at all raises :class:`YamlProblem`.
    """
    duplicates: list[YamlProblem] = []
    try:
        loader = _BoundedLoader(text)
    except yaml.reader.ReaderError as e:  # a character YAML does not allow, e.g. NUL
        line = text.count("\n", 0, e.position) + 1
        raise YamlProblem(
            line,
            f"not valid YAML: the character U+{e.character:04X} is not allowed in YAML text; "
            'write it as an escape in a double-quoted string, e.g. "\\x00"',
        ) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}, []
        lines: dict[Path, int] = {(): node.start_mark.line + 1}
        _walk(node, (), lines, duplicates)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlProblem(line, f"not valid YAML: {e.problem or e}") from None
    except yaml.YAMLError as e:  # pragma: no cover - unmarked errors are rare
        raise YamlProblem(1, f"not valid YAML: {e}") from None
    finally:
        loader.dispose()
    return data, lines, duplicates


def _walk(
    node: yaml.Node, path: Path, lines: dict[Path, int], duplicates: list[YamlProblem]
) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key in seen:
                duplicates.append(
                    YamlProblem(
                        key_node.start_mark.line + 1,
                        f"duplicate key {key!r}; the last one would silently win, keep one",
                        (*path, key),
                    )
                )
            seen.add(key)
            sub = (*path, key)
            lines[sub] = key_node.start_mark.line + 1
            if isinstance(value_node, yaml.ScalarNode) and value_node.style in ("|", ">"):
                # block scalar: its first content line is the line after the indicator
                lines[(*sub, "<content>")] = value_node.start_mark.line + 2
            _walk(value_node, sub, lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            _walk(item, (*path, i), lines, duplicates)


def line_of(lines: dict[Path, int], path: Path) -> int:
    """Line of ``path`` or of its nearest ancestor that has one."""
    p = tuple(path)
    while p:
        if p in lines:
            return lines[p]
        p = p[:-1]
    return lines.get((), 1)
