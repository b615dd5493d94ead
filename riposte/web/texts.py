"""The web server's French texts (riposte/web/messages.yml) and pages (templates/web/*.html).

A page is a `string.Template`: `$name` is replaced by a value escaped with `html.escape`, unless
the caller gives it in `raw` (HTML it built itself from escaped values). Files are read once.
"""

from __future__ import annotations

import functools
import html
from pathlib import Path
from string import Template
from typing import Any

import yaml

MESSAGES_FILE = Path(__file__).resolve().parent / "messages.yml"
TEMPLATES_DIR = Path(__file__).resolve().parent.parent.parent / "templates" / "web"


@functools.lru_cache(maxsize=1)
def _messages() -> dict[str, dict[str, str]]:
    data = yaml.safe_load(MESSAGES_FILE.read_text(encoding="utf-8"))
    return {section: dict(values) for section, values in data.items()}


def message(section: str, key: str, **values: Any) -> str:
    """The French text `section.key` of messages.yml, with its `{name}` fields filled."""
    text = _messages()[section][key]
    return text.format(**values) if values else text


@functools.cache
def _template(name: str) -> Template:
    return Template((TEMPLATES_DIR / f"{name}.html").read_text(encoding="utf-8"))


def page(name: str, raw: dict[str, str] | None = None, **values: Any) -> bytes:
    """templates/web/<name>.html filled in, as UTF-8 (the file's bytes, exactly, around the
    values)."""
    fields = {key: html.escape(str(value)) for key, value in values.items()}
    fields.update(raw or {})
    return _template(name).substitute(fields).encode("utf-8")
