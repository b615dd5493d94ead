"""How the advice is told: the chat message and the command-line text, from templates.

The engine decides (`riposte.advice.engine`); this module only renders its JSON contract
(`Advice.to_dict()`) with the templates of `templates/advice/`:

* the chat, short enough for a phone: `chat.md.j2` the recommendation (the rung named once,
  its first reason, the other possible rungs), `key_deadline.md.j2` the deadline that matters
  most; on demand `steps.md.j2` (« toutes les étapes »: the checklist and what to know),
  `ladder.md.j2` (« les paliers »), `deadlines.md.j2` (« mes délais », also sent by the case
  actions) and `why.md.j2` (« pourquoi ? »);
* `cli.txt.j2` the text of `riposte advise`.

The wording stays in the knowledge files (conversation.yml `chat`, messages.yml `cli`); the
templates lay it out. One switch says how a deadline is told (`deadline_state`), for both.

The environment has the settings of the letters' one (`riposte.letters.environment`):
sandboxed, `StrictUndefined`, no autoescape for text, blocks trimmed, no reload; printing
`None`, a boolean or a raw date is a template bug and raises `AdviceTemplateError`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from riposte.advice.engine import PRESS_OFFENSES, Advice, day_with_weekday, non_working_reason
from riposte.knowledge import Messages, load_conversation
from riposte.knowledge import load as load_knowledge
from riposte.text import date_fr

TEMPLATES_DIR = Path(__file__).resolve().parent.parent.parent / "templates" / "advice"
CHAT_TEMPLATE = "chat.md.j2"
KEY_DEADLINE_TEMPLATE = "key_deadline.md.j2"
STEPS_TEMPLATE = "steps.md.j2"
LADDER_TEMPLATE = "ladder.md.j2"
DEADLINES_TEMPLATE = "deadlines.md.j2"
CLI_TEMPLATE = "cli.txt.j2"
WHY_TEMPLATE = "why.md.j2"


class AdviceTemplateError(RuntimeError):
    """A template printed something it must not print (a bug in a template)."""


def deadline_state(prescription: Mapping[str, Any]) -> str:
    """How a deadline is told: "unknown", "expired", "today" (last day) or "open".

    `prescription` is a qualification's `prescription` or one of its `statements`, in the
    JSON form.
    """
    if prescription.get("deadline") is None:
        return "unknown"
    if prescription.get("expired"):
        return "expired"
    if prescription.get("days_left") == 0:
        return "today"
    return "open"


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _date_fr(value: date | str) -> str:
    """ "24/11/2026" from a date or an ISO text (the JSON contract)."""
    return date_fr(_day(value))


def _finalize(value: Any) -> Any:
    if isinstance(value, jinja2.Undefined):
        str(value)  # StrictUndefined raises UndefinedError, naming the missing variable
        raise AdviceTemplateError("an advice template printed an undefined value")
    if value is None or isinstance(value, bool | date):
        raise AdviceTemplateError(
            f"an advice template printed a raw {type(value).__name__} value (use a filter)"
        )
    return value


@functools.lru_cache(maxsize=4)
def get_environment(directory: Path = TEMPLATES_DIR) -> SandboxedEnvironment:
    """The sandboxed environment of the advice templates (built once per directory)."""
    messages = load_knowledge().messages
    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(directory), encoding="utf-8"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
        auto_reload=False,
    )
    env.filters["date_fr"] = _date_fr
    env.filters["deadline_state"] = deadline_state
    env.filters["day_with_weekday"] = lambda value: day_with_weekday(messages, _day(value))
    env.filters["non_working_reason"] = lambda value: non_working_reason(messages, _day(value))
    return env


def _as_dict(advice: Advice | Mapping[str, Any]) -> Mapping[str, Any]:
    return advice.to_dict() if isinstance(advice, Advice) else advice


def _chat_wording() -> Messages:
    return Messages(load_conversation()["chat"])


def _render_chat_template(name: str, **context: Any) -> str:
    text = get_environment().get_template(name).render(c=_chat_wording(), **context)
    # A chat message does not end with a line break.
    return text.removesuffix("\n")


def render_chat(advice: Advice | Mapping[str, Any]) -> str:
    """The recommendation, short enough for a phone: the rung named once, its first reason and
    the other possible rungs (the whole advice is `riposte advise`; the rest of it comes on
    demand: `render_steps`, `render_ladder`, `chat_deadline_lines`, `render_why`)."""
    return _render_chat_template(CHAT_TEMPLATE, advice=_as_dict(advice), reason=main_reason(advice))


def main_reason(advice: Advice | Mapping[str, Any]) -> str | None:
    """The recommendation's one-line reason: for a court action or a removal, the rung's own
    line (what it is for); otherwise, and always in danger, the first reason of the strategy
    (the danger, a lawful criticism, nothing described)."""
    data = _as_dict(advice)
    level = data["strategy"]["level"]
    reasons = data["strategy"]["why"]
    if level in ("offensive", "defensive") and not data["urgent"]:
        return next(r["why"] for r in data["ladder"] if r["level"] == level)
    return reasons[0] if reasons else None


def other_rungs(advice: Advice | Mapping[str, Any]) -> list[str]:
    """The levels of the other rungs the advice finds possible, in the ladder's order."""
    data = _as_dict(advice)
    chosen = data["strategy"]["level"]
    return [r["level"] for r in data["ladder"] if r["recommended"] and r["level"] != chosen]


def rung_options(advice: Advice | Mapping[str, Any]) -> list[tuple[str, str]]:
    """The other possible rungs as (level, button title), then ("ladder", its button title):
    the options offered under the recommendation. A recommended « offensive » rung comes
    first too: its path (the constat, the insurer, the lawyer) has its own checklist."""
    wording = _chat_wording()
    titles = wording.mapping("option_buttons")
    levels = other_rungs(advice)
    if _as_dict(advice)["strategy"]["level"] == "offensive":
        levels = ["offensive", *levels]
    options = [(level, titles[level]) for level in levels]
    return [*options, ("ladder", wording.raw("ladder_button"))]


def letter_button_title(letter: str | None) -> str | None:
    """The title of the button that drafts a step's letter in the chat (None: no letter)."""
    if not letter:
        return None
    titles = _chat_wording().mapping("letter_buttons")
    return str(titles.get(letter) or titles["other"])


def after_refusal_titles() -> dict[str, str]:
    """The titles of the letters offered after a platform's refusal, by letter kind."""
    return {str(k): str(v) for k, v in _chat_wording().mapping("after_refusal_buttons").items()}


def offensive_titles() -> dict[str, str]:
    """The titles of the letters under the offensive checklist, by letter kind."""
    return {str(k): str(v) for k, v in _chat_wording().mapping("offensive_buttons").items()}


# Which deadline matters most: the last day first, then one within a month, then an unknown
# start (the deadline may be close: the doctor must find the date), then a later deadline, and
# an expired one only when nothing else is left.
SOON_DAYS = 31


def _urgency(prescription: Mapping[str, Any]) -> tuple[int, int]:
    state = deadline_state(prescription)
    days = prescription.get("days_left") or 0
    if state == "today":
        return 0, 0
    if state == "open":
        return (1 if days <= SOON_DAYS else 3), days
    if state == "unknown":
        return 2, 0
    return 4, -days


def key_deadline(advice: Advice | Mapping[str, Any]) -> dict[str, Any] | None:
    """The deadline that matters most, as `{"label", "prescription", "more"}` (`more`: other
    deadlines run, told by « mes délais »), or None without any
    qualified offence. Each dated statement of a press offence has its own deadline: the
    nearest open one may come before the qualification's (its latest open statement)."""
    data = _as_dict(advice)
    wording = _chat_wording()
    candidates: list[dict[str, Any]] = []
    for q in data["qualifications"]:
        candidates.append({"label": q["label"], "prescription": q["prescription"]})
        for statement in q["prescription"].get("statements") or []:
            label = wording.get(
                "statement_label", label=q["label"], published=_date_fr(statement["published_at"])
            )
            candidates.append({"label": label, "prescription": statement})
    if not candidates:
        return None

    key = min(candidates, key=lambda candidate: _urgency(candidate["prescription"]))
    deadlines = {candidate["prescription"].get("deadline") for candidate in candidates}
    return {**key, "more": len(deadlines) > 1 or len(data["qualifications"]) > 1}


def render_key_deadline(advice: Advice | Mapping[str, Any]) -> str | None:
    """The deadline that matters most, alone (None when no offence is qualified)."""
    key = key_deadline(advice)
    if key is None:
        return None
    return _render_chat_template(KEY_DEADLINE_TEMPLATE, advice=_as_dict(advice), key=key)


def render_steps(advice: Advice | Mapping[str, Any]) -> str:
    """« Toutes les étapes »: the whole checklist, done steps ticked, then what to know."""
    return _render_chat_template(STEPS_TEMPLATE, advice=_as_dict(advice))


def render_ladder(advice: Advice | Mapping[str, Any]) -> str:
    """« Les paliers »: why this rung, and the five rungs (the recommended one marked once)."""
    return _render_chat_template(LADDER_TEMPLATE, advice=_as_dict(advice))


def chat_deadline_lines(advice: Advice | Mapping[str, Any]) -> list[str]:
    """One chat line per possible offense: the deadline to act in court and the days left."""
    template = get_environment().get_template(DEADLINES_TEMPLATE)
    return template.render(advice=_as_dict(advice), c=_chat_wording()).splitlines()


# The sources a « pourquoi ? » answer shows, at most.
WHY_SOURCES = 6


def render_why(advice: Advice, subject: str | None) -> str:
    """The answer to « pourquoi ? »: the reasons for the strategy, or for the step named by
    `subject` ("step:<key>"), with their sources and the cautions."""
    kb = load_knowledge()
    data = advice.to_dict()
    key = subject[5:] if subject and subject.startswith("step:") else None
    step = kb.steps.get(key) if key else None
    if step is not None:
        source_ids: list[str] = list(step.sources)
        uncertain = step.certainty != "sur"
    else:
        source_ids = [source["id"] for source in data["sources"]]
        uncertain = any(q["certainty"] != "sur" for q in data["qualifications"]) or any(
            kb.ladder[rung["level"]].certainty != "sur"
            for rung in data["ladder"]
            if rung["recommended"]
        )
    sources = [kb.sources[i] for i in dict.fromkeys(source_ids) if i in kb.sources]
    template = get_environment().get_template(WHY_TEMPLATE)
    text = template.render(
        advice=data,
        step=step,
        sources=sources[:WHY_SOURCES],
        uncertain=uncertain,
        c=_chat_wording(),
    )
    return text.removesuffix("\n")


def render_cli(advice: Advice | Mapping[str, Any]) -> str:
    """The advice as readable French text (`riposte advise` without `--json`)."""
    kb = load_knowledge()
    template = get_environment().get_template(CLI_TEMPLATE)
    return template.render(
        advice=_as_dict(advice),
        m=kb.messages,
        letter_labels={kind: letter.label for kind, letter in kb.letters.items()},
        press_offenses=PRESS_OFFENSES,
    )
