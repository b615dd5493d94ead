"""The one Jinja2 environment of the letters: sandboxed, strict, filters registered once.

Values are data, never templates: a value is printed exactly as typed. In the letter templates
(`*.md.j2`, not autoescaped) every printed value goes through `finalize`, which

* refuses `None`, booleans, dates and undefined values (a template bug: a letter must never
  show "None" or an ISO date instead of a French one);
* removes control characters, lone surrogates and the private markers below;
* turns its line breaks into `LINE_BREAK`, so that a value can never start a new line, hence
  never a new block, heading, list item or section of the letter;
* wraps it between `DATA_OPEN` and `DATA_CLOSE`, so that the parser (`riposte.letters.model`)
  knows which characters come from the case and never reads markup in them.

In the HTML layout (`*.html.j2`) autoescape is on and `finalize` returns values unchanged:
the layout receives already parsed, already clean text.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
from jinja2.nodes import EvalContext
from jinja2.sandbox import SandboxedEnvironment

from riposte.letters import filters

TEMPLATES_DIR = Path(__file__).resolve().parent.parent.parent / "templates" / "letters"

DATA_OPEN = "\ue000"
DATA_CLOSE = "\ue001"
LINE_BREAK = "\u2028"

_NEWLINES = re.compile(r"\r\n|[\r\n\u2028\u2029\x85\x0b\x0c]")


class LetterTemplateError(RuntimeError):
    """A template printed something it must not print (a bug in a template, not in a case)."""


def clean_text(text: str) -> str:
    """`text` without control characters, lone surrogates, non-characters or private markers.

    Line breaks become `LINE_BREAK`; tabs become spaces. What remains can be written to XML
    (DOCX), HTML and PDF.
    """
    text = _NEWLINES.sub(LINE_BREAK, text).replace("\t", " ")
    out: list[str] = []
    for char in text:
        if char in (DATA_OPEN, DATA_CLOSE):
            continue
        if char == LINE_BREAK:
            out.append(char)
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs") or (category == "Cn" and _is_noncharacter(char)):
            continue
        out.append(char)
    return "".join(out)


def _is_noncharacter(char: str) -> bool:
    code = ord(char)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


@jinja2.pass_eval_context
def _finalize(eval_ctx: EvalContext, value: Any) -> Any:
    if eval_ctx.autoescape:
        return value
    if isinstance(value, jinja2.Undefined):
        str(value)  # StrictUndefined raises UndefinedError, naming the missing variable
        raise LetterTemplateError("a letter template printed an undefined value")
    if value is None or isinstance(value, bool | date):
        raise LetterTemplateError(
            f"a letter template printed a raw {type(value).__name__} value (use a filter)"
        )
    return DATA_OPEN + clean_text(str(value)) + DATA_CLOSE


@functools.lru_cache(maxsize=4)
def get_environment(directory: Path = TEMPLATES_DIR) -> SandboxedEnvironment:
    """The sandboxed environment of the letter templates (built once per directory)."""
    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(directory), encoding="utf-8"),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "html.j2"), default_for_string=False, default=False
        ),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
        auto_reload=False,
    )
    filters.register(env.filters)
    return env
