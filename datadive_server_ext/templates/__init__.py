"""Datadive cell templates: the pure model, validation, renderer and built-in library.

Shared by the hub service (registry) and the server extension (render, cell editing); it has no
I/O beyond reading template files and the packaged schema/library.
"""

from .builtins import builtin_sources, builtin_templates
from .model import (
    INPUT_TYPES,
    MAX_TEMPLATE_BYTES,
    Input,
    Problem,
    Template,
    TemplateInvalid,
    TemplateTooLarge,
    is_variable_name,
    load_file,
    parse_template,
    schema,
    template_from_document,
)
from .render import (
    RenderError,
    ValuesInvalid,
    check_values,
    is_hand_edited,
    python_literal,
    render_cells,
    render_code,
    source_hash,
)
from .versions import latest_version, version_key

__all__ = [
    "INPUT_TYPES",
    "MAX_TEMPLATE_BYTES",
    "Input",
    "Problem",
    "RenderError",
    "Template",
    "TemplateInvalid",
    "TemplateTooLarge",
    "ValuesInvalid",
    "builtin_sources",
    "builtin_templates",
    "check_values",
    "is_hand_edited",
    "is_variable_name",
    "latest_version",
    "load_file",
    "parse_template",
    "python_literal",
    "render_cells",
    "render_code",
    "schema",
    "source_hash",
    "template_from_document",
    "version_key",
]
