"""The shared case format: load, validate and convert a case into dataclasses.

A case is a JSON object described by `riposte/schemas/case.schema.json`. `load_case` accepts a
mapping or a path to a JSON file, checks it against the schema, then checks what a schema
cannot express (real dates, no date in the future, `last_seen` not before `first_published`;
the same for each statement's `published_at` and the victim's `birth_date`).
Every problem becomes a French message naming the field, collected in `CaseError.errors`.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jsonschema

from riposte import clock
from riposte.knowledge import Messages
from riposte.knowledge import load as load_knowledge

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "case.schema.json"

_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_VALUE_PREVIEW = 60


class CaseError(ValueError):
    """A case that cannot be used; `errors` holds one French message per problem."""

    def __init__(self, errors: Iterable[str]) -> None:
        self.errors: tuple[str, ...] = tuple(errors)
        super().__init__("\n".join(self.errors))


# --------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True)
class Victim:
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    profession: str | None = None
    practice: str | None = None
    address: str | None = None
    postal_code: str | None = None
    city: str | None = None
    email: str | None = None
    phone: str | None = None
    # Kept as ISO text (AAAA-MM-JJ) like the other victim fields; checked by `parse_case`.
    birth_date: str | None = None
    birth_place: str | None = None


@dataclass(frozen=True)
class Author:
    known: bool | None = None
    relation: str | None = None
    handles: tuple[str, ...] = ()
    name: str | None = None


@dataclass(frozen=True)
class Incident:
    platforms: tuple[str, ...] = ()
    offenses: tuple[str, ...] = ()
    discriminatory: bool = False
    first_published: date | None = None
    last_seen: date | None = None
    author: Author = field(default_factory=Author)
    volume: str | None = None
    public: bool | None = None
    physical_danger: bool = False
    summary: str | None = None
    wants_reply: bool = False
    # The last message seen is itself offending: the fallback start of a press deadline.
    last_seen_offending: bool | None = None
    # The words target the doctor in or because of their work (None: not said). Outrage
    # (art. 433-5) and the health-professional threat (art. 433-3) depend on it.
    about_work: bool | None = None


@dataclass(frozen=True)
class Evidence:
    url: str | None = None
    captured_at: datetime | None = None
    author: str | None = None
    excerpt: str | None = None
    file: str | None = None
    sha256: str | None = None
    # When this statement was published or sent: each one has its own press deadline.
    published_at: date | None = None


@dataclass(frozen=True)
class Case:
    victim: Victim = field(default_factory=Victim)
    incident: Incident | None = None
    evidence: tuple[Evidence, ...] = ()
    steps_done: tuple[str, ...] = ()
    court_city: str | None = None

    def latest_publication(self) -> date | None:
        """The latest known publication: a dated statement, else the first publication. The
        right of reply runs three months from each publication (art. 13 of the 1881 law)."""
        dated = [item.published_at for item in self.evidence if item.published_at is not None]
        first = self.incident.first_published if self.incident is not None else None
        return max([*dated, *([first] if first is not None else [])], default=None)

    def to_dict(self) -> dict[str, Any]:
        """The case in the JSON format of the schema (absent values omitted)."""
        out: dict[str, Any] = {}
        victim = _compact(
            {name: getattr(self.victim, name) for name in Victim.__dataclass_fields__}
        )
        if victim:
            out["victim"] = victim
        if self.incident is not None:
            inc = self.incident
            author = _compact(
                {
                    "known": inc.author.known,
                    "relation": inc.author.relation,
                    "handles": list(inc.author.handles) or None,
                    "name": inc.author.name,
                }
            )
            out["incident"] = _compact(
                {
                    "platforms": list(inc.platforms),
                    "offenses": list(inc.offenses),
                    "discriminatory": inc.discriminatory,
                    "first_published": _iso(inc.first_published),
                    "last_seen": _iso(inc.last_seen),
                    "author": author or None,
                    "volume": inc.volume,
                    "public": inc.public,
                    "physical_danger": inc.physical_danger,
                    "summary": inc.summary,
                    "wants_reply": inc.wants_reply or None,
                    "last_seen_offending": inc.last_seen_offending,
                    "about_work": inc.about_work,
                }
            )
        if self.evidence:
            out["evidence"] = [
                _compact(
                    {
                        "url": item.url,
                        "captured_at": _iso(item.captured_at),
                        "published_at": _iso(item.published_at),
                        "author": item.author,
                        "excerpt": item.excerpt,
                        "file": item.file,
                        "sha256": item.sha256,
                    }
                )
                for item in self.evidence
            ]
        if self.steps_done:
            out["steps_done"] = list(self.steps_done)
        if self.court_city is not None:
            out["court_city"] = self.court_city
        return out


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _compact(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


# --------------------------------------------------------------------------- loading


@functools.lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """The JSON Schema of the case format (read once)."""
    with SCHEMA_PATH.open(encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema


@functools.lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load_schema())


def load_case(
    path_or_dict: Mapping[str, Any] | str | os.PathLike[str], today: date | None = None
) -> Case:
    """Validate a case given as a mapping or as a path to a JSON file.

    `today` (default: the current date) bounds the incident dates. Raises `CaseError`.
    """
    messages = load_knowledge().messages
    if isinstance(path_or_dict, str | os.PathLike):
        data: Any = _read_json(Path(path_or_dict), messages)
    else:
        data = path_or_dict
    return parse_case(data, today if today is not None else clock.today(), messages)


def _read_json(path: Path, messages: Messages) -> Any:
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CaseError([messages.get("case_errors.file_not_found", path=shown)]) from exc
    except PermissionError as exc:
        raise CaseError([messages.get("case_errors.file_denied", path=shown)]) from exc
    except IsADirectoryError as exc:
        raise CaseError([messages.get("case_errors.file_is_directory", path=shown)]) from exc
    except UnicodeDecodeError as exc:
        raise CaseError([messages.get("case_errors.file_encoding", path=shown)]) from exc
    except OSError as exc:
        key = "file_is_directory" if exc.errno == errno.EISDIR else "file_unreadable"
        raise CaseError([messages.get(f"case_errors.{key}", path=shown)]) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CaseError(
            [messages.get("case_errors.bad_json", path=shown, line=exc.lineno, column=exc.colno)]
        ) from exc


def _normalise(value: Any) -> Any:
    """Accept `date`/`datetime` objects and tuples from Python callers (e.g. Rasa actions)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {key: _normalise(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(item) for item in value]
    return value


def parse_case(data: Any, today: date, messages: Messages | None = None) -> Case:
    """Validate already-decoded JSON data and build a `Case`. Raises `CaseError`."""
    messages = messages or load_knowledge().messages
    data = _normalise(data)
    if not isinstance(data, Mapping):
        raise CaseError(
            [messages.get("case_errors.not_object", field=messages.raw("case_errors.root"))]
        )
    errors = _schema_errors(data, messages)
    if errors:
        raise CaseError(errors)
    errors = []
    incident = _build_incident(data.get("incident"), today, messages, errors)
    evidence = _build_evidence(data.get("evidence") or [], today, messages, errors)
    victim_data = data.get("victim") or {}
    _check_past_date(
        _parse_date(victim_data.get("birth_date"), "victim.birth_date", messages, errors),
        "victim.birth_date",
        today,
        messages,
        errors,
    )
    if errors:
        raise CaseError(errors)
    return Case(
        victim=Victim(**{key: victim_data.get(key) for key in Victim.__dataclass_fields__}),
        incident=incident,
        evidence=evidence,
        steps_done=_unique(data.get("steps_done") or []),
        court_city=data.get("court_city"),
    )


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def _field_name(path: Iterable[Any], messages: Messages) -> str:
    name = ""
    for part in path:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or messages.raw("case_errors.root")


def _preview(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) > _VALUE_PREVIEW:
        text = text[: _VALUE_PREVIEW - 1] + "…"
    return text


def _schema_errors(data: Mapping[str, Any], messages: Messages) -> list[str]:
    found = sorted(
        _validator().iter_errors(data),
        key=lambda e: ([str(p) for p in e.absolute_path], str(e.validator)),
    )
    out: list[str] = []
    for error in found:
        out.extend(_translate(error, messages))
    return list(dict.fromkeys(out))


def _translate(error: jsonschema.ValidationError, messages: Messages) -> list[str]:
    path = list(error.absolute_path)
    name = _field_name(path, messages)
    kind = error.validator
    if kind == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        extras = sorted(key for key in error.instance if key not in allowed)
        return [
            messages.get("case_errors.unknown_field", field=_field_name([*path, key], messages))
            for key in extras
        ]
    if kind == "type":
        expected = error.validator_value
        names = [expected] if isinstance(expected, str) else list(expected)
        types = messages.mapping("case_errors.types")
        wanted = messages.raw("case_errors.or").join(types.get(t, t) for t in names if t != "null")
        return [
            messages.get(
                "case_errors.type", field=name, expected=wanted, value=_preview(error.instance)
            )
        ]
    if kind == "enum":
        allowed_values = [v for v in error.validator_value if v is not None]
        return [
            messages.get(
                "case_errors.enum",
                field=name,
                value=_preview(error.instance),
                allowed=messages.raw("words.list_separator").join(allowed_values),
            )
        ]
    if kind == "pattern":
        return [messages.get("case_errors.pattern", field=name, value=_preview(error.instance))]
    return [messages.get("case_errors.invalid", field=name)]


def _parse_date(value: Any, name: str, messages: Messages, errors: list[str]) -> date | None:
    if value is None:
        return None
    if isinstance(value, str) and _DATE_RE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    errors.append(messages.get("case_errors.invalid_date", field=name, value=_preview(value)))
    return None


def _parse_datetime(
    value: Any, name: str, messages: Messages, errors: list[str]
) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
        if _DATE_RE.match(text[:10]):
            try:
                return datetime.fromisoformat(text)
            except ValueError:
                pass
    errors.append(messages.get("case_errors.invalid_datetime", field=name, value=_preview(value)))
    return None


def _build_incident(
    raw: Mapping[str, Any] | None, today: date, messages: Messages, errors: list[str]
) -> Incident | None:
    if raw is None:
        return None
    first = _parse_date(raw.get("first_published"), "incident.first_published", messages, errors)
    last = _parse_date(raw.get("last_seen"), "incident.last_seen", messages, errors)
    for name, value in (("incident.first_published", first), ("incident.last_seen", last)):
        _check_past_date(value, name, today, messages, errors)
    if first is not None and last is not None and last < first:
        errors.append(
            messages.get(
                "case_errors.last_seen_before_first",
                field="incident.last_seen",
                value=last.isoformat(),
                first_published=first.isoformat(),
            )
        )
    author_raw = raw.get("author") or {}
    return Incident(
        platforms=_unique(raw.get("platforms") or []),
        offenses=_unique(raw.get("offenses") or []),
        discriminatory=bool(raw.get("discriminatory")),
        first_published=first,
        last_seen=last,
        author=Author(
            known=author_raw.get("known"),
            relation=author_raw.get("relation"),
            handles=tuple(author_raw.get("handles") or ()),
            name=author_raw.get("name"),
        ),
        volume=raw.get("volume"),
        public=raw.get("public"),
        physical_danger=bool(raw.get("physical_danger")),
        summary=raw.get("summary"),
        wants_reply=bool(raw.get("wants_reply")),
        last_seen_offending=raw.get("last_seen_offending"),
        about_work=raw.get("about_work"),
    )


def _check_past_date(
    value: date | None, name: str, today: date, messages: Messages, errors: list[str]
) -> None:
    """A date in the future is refused, with the same French message for every field."""
    if value is not None and value > today:
        errors.append(
            messages.get(
                "case_errors.future_date",
                field=name,
                value=value.isoformat(),
                today=today.isoformat(),
            )
        )


def _build_evidence(
    raw: list[Mapping[str, Any]], today: date, messages: Messages, errors: list[str]
) -> tuple[Evidence, ...]:
    items: list[Evidence] = []
    for index, item in enumerate(raw):
        captured = _parse_datetime(
            item.get("captured_at"), f"evidence[{index}].captured_at", messages, errors
        )
        name = f"evidence[{index}].published_at"
        published = _parse_date(item.get("published_at"), name, messages, errors)
        _check_past_date(published, name, today, messages, errors)
        sha = item.get("sha256")
        items.append(
            Evidence(
                url=item.get("url"),
                captured_at=captured,
                author=item.get("author"),
                excerpt=item.get("excerpt"),
                file=item.get("file"),
                sha256=sha.lower() if isinstance(sha, str) else None,
                published_at=published,
            )
        )
    return tuple(items)
