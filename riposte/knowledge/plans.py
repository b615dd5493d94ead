"""The checklists the chat gives for the « neutre », « préventive » and « offensive » rungs
(plans.yml).

Read and validated like the other knowledge files: every source id is in sources.yml, every
step in steps.yml, and an item has public sources unless it is marked as Riposte's own
practical advice (`riposte_own`), the way ladder.yml marks `riposte_additions`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from riposte.knowledge import (
    KNOWLEDGE_DIR,
    Knowledge,
    Messages,
    _read_yaml,
    _Reader,
    _top,
    load_from,
)

FILE = "plans.yml"
# The rungs that have a checklist of their own in the chat (keys of ladder.yml).
PLAN_LEVELS: tuple[str, ...] = ("neutre", "preventive", "offensive")
ITEM_KEYS = frozenset({"text", "step", "sources", "riposte_own", "certainty", "practice"})
# The modes of practice an item may be limited to (the case's victim.practice).
PRACTICES = frozenset({"liberal", "hospital", "salaried", "other"})


@dataclass(frozen=True)
class PlanItem:
    text: str
    sources: tuple[str, ...]
    certainty: str
    step: str | None = None
    riposte_own: bool = False
    # Shown to these modes of practice only (and to all when the mode is unknown); () : all.
    practice: tuple[str, ...] = ()

    def applies_to(self, practice: str | None) -> bool:
        return not self.practice or practice is None or practice in self.practice


@dataclass(frozen=True)
class Plan:
    level: str
    label: str
    items: tuple[PlanItem, ...]

    def source_ids(self) -> tuple[str, ...]:
        """The sources of the items, each once, in the order the items cite them."""
        return tuple(dict.fromkeys(i for item in self.items for i in item.sources))


@dataclass(frozen=True)
class Plans:
    note: str
    plans: dict[str, Plan]
    wording: Messages


def _item(r: _Reader, raw: object, path: str, kb: Knowledge) -> PlanItem:
    node = r.mapping(raw, path)
    extra = [key for key in node if key not in ITEM_KEYS]
    if extra:
        raise r.fail(path, f"unexpected keys: {', '.join(extra)}")
    own = r.flag(node, "riposte_own", path) if "riposte_own" in node else False
    if own and "sources" in node:
        raise r.fail(path, "Riposte's own advice has no public source: drop `sources`")
    if not own and "sources" not in node:
        raise r.fail(path, "an item needs `sources`, or `riposte_own: true`")
    step = r.opt_text(node, "step", path)
    if step is not None and step not in kb.steps:
        raise r.fail(f"{path}.step", f"unknown step {step!r} (steps.yml)")
    practice: tuple[str, ...] = ()
    if "practice" in node:
        listed = node["practice"]
        if not isinstance(listed, list) or not listed or not set(listed) <= PRACTICES:
            raise r.fail(f"{path}.practice", f"expected a list among {sorted(PRACTICES)}")
        practice = tuple(listed)
    return PlanItem(
        practice=practice,
        text=r.text(node, "text", path),
        sources=() if own else r.source_ids(node, path, kb.sources),
        certainty=r.certainty(node, path),
        step=step,
        riposte_own=own,
    )


def load_plans_from(directory: Path, kb: Knowledge | None = None) -> Plans:
    """Read and validate plans.yml in `directory` against the knowledge base there (`kb`,
    read from `directory` when not given); no cache."""
    kb = kb if kb is not None else load_from(directory)
    data = _read_yaml(directory, FILE)
    r = _Reader(FILE)
    root = r.mapping(data, "(root)")
    section = _top(r, data, "plans")
    r.exact_keys(section, PLAN_LEVELS, "plans")
    wording = r.mapping(r.get(root, "wording", "(root)"), "wording")
    for key in ("heading", "item", "own", "sources_heading", "source"):
        r.text(wording, key, "wording")
    plans: dict[str, Plan] = {}
    for level in PLAN_LEVELS:
        path = f"plans.{level}"
        node = r.mapping(section[level], path)
        items = r.get(node, "items", path)
        if not isinstance(items, list) or not items:
            raise r.fail(f"{path}.items", "expected a non-empty list")
        plans[level] = Plan(
            level=level,
            label=r.text(node, "label", path),
            items=tuple(_item(r, raw, f"{path}.items[{i}]", kb) for i, raw in enumerate(items)),
        )
    return Plans(note=r.text(root, "note", "(root)"), plans=plans, wording=Messages(wording))


@functools.lru_cache(maxsize=1)
def load_plans() -> Plans:
    """The packaged plans, read and validated on first call, then cached."""
    return load_plans_from(KNOWLEDGE_DIR)
