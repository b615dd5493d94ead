"""Where French may appear in Python: shared by the tests that keep it in YAML and templates.

`tests/core/test_knowledge.py::test_no_french_text_in_python` and
`tests/store/test_messages.py` scan every module of riposte/, riposte_rasa/ and actions/.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Modules whose French sentences are being moved to YAML or templates by another change in
# progress (advice rendering, letters, triage, the web server, the actions, the repository).
# Remove each entry as soon as its module holds no French: the list must end empty.
PENDING = ()

# Accented literals that are not text anyone reads: characters and patterns of French
# typography, and the words a recogniser matches. Each is listed with its exact value.
NOT_TEXT: dict[str, set[str]] = {
    # ligatures and quotation marks mapped by the folding that keeps offsets
    "riposte/nlp/__init__.py": {"œ", "æ", "«", "»"},
    # punctuation that may close an excerpt
    "riposte/nlp/evidence.py": {".,;:!?)»"},
    # non-breaking spaces before « ; : ! ? » and after « and n°
    "riposte/letters/model.py": {" ([:;!?»])", "(«|\\bn°) "},
    # an underscore that is not inside a word (accented letters included)
    "riposte/letters/output.py": {"(?<![0-9A-Za-zÀ-ÿ])_|_(?![0-9A-Za-zÀ-ÿ])"},
    # the words that go with credentials in « reprendre mon dossier RIP-… » (a vocabulary)
    "riposte_rasa/nlu/credentials_intent.py": {
        "reprendre rouvrir ouvrir retrouver continuer récupérer accéder revenir à au mon ma mes "
        "le la les l du de des d un une sur dossier code phrase secrète mot passe voici voilà "
        "c est et je j veux voudrais bonjour merci svp s il vous plaît avec mes identifiants"
    },
}


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def is_pending(path: Path) -> bool:
    return relative(path).startswith(PENDING)


def python_sources() -> list[Path]:
    """Every module of riposte/, riposte_rasa/ and actions/ (pending ones included)."""
    return sorted(
        path
        for folder in ("riposte", "riposte_rasa", "actions")
        for path in (ROOT / folder).rglob("*.py")
    )


def checked_sources() -> list[Path]:
    """The modules that must hold no French: all but PENDING."""
    return [path for path in python_sources() if not is_pending(path)]


def docstring_nodes(tree: ast.AST) -> set[int]:
    """`id()` of the docstring constants of a parsed module (modules, classes, functions)."""
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
