"""Regenerate the golden letters: `.venv/bin/python -m tests.letters.regen [--preview]`.

Writes `tests/letters/golden/<case>__<kind>.md` for every sample of `tests.letters.samples`
and removes goldens that no sample uses. Review every changed line before committing.

`--preview` also writes `docs/letter-procureur.png`, the first page of a rendered complaint
(for docs/guide.md), with `pdftoppm` (poppler-utils, installed by scripts/system-deps.sh).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from riposte.letters.build import build_letter
from riposte.letters.output import render, to_markdown
from tests.letters.samples import GOLDEN, SAMPLES, TODAY, Sample

ROOT = Path(__file__).resolve().parents[2]
PREVIEW = ROOT / "docs" / "letter-procureur.png"
PREVIEW_SAMPLE = next(
    s for s in SAMPLES if s.case == "liberal_named_defamation" and s.kind == "procureur"
)
PREVIEW_DPI = 110


def regenerate() -> None:
    GOLDEN.mkdir(exist_ok=True)
    wanted = set()
    for sample in SAMPLES:
        document = build_letter(sample.case_path, sample.kind, TODAY, sample.options)
        text = to_markdown(document)
        path = sample.golden_path
        wanted.add(path)
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old != text:
            path.write_text(text, encoding="utf-8")
            print(f"{'mis à jour' if old is not None else 'créé'} : {path.name}")
    for path in GOLDEN.glob("*.md"):
        if path not in wanted:
            path.unlink()
            print(f"supprimé : {path.name}")


def preview(sample: Sample = PREVIEW_SAMPLE) -> bool:
    """Write the PNG of the complaint's first page; False when pdftoppm is missing."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        print("pdftoppm absent : aperçu non généré (lancez scripts/system-deps.sh).")
        return False
    document = build_letter(sample.case_path, sample.kind, TODAY, sample.options)
    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "plainte.pdf"
        pdf.write_bytes(render(document, "pdf"))
        stem = Path(folder) / "page"
        subprocess.run(
            [
                pdftoppm,
                "-png",
                "-r",
                str(PREVIEW_DPI),
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(pdf),
                str(stem),
            ],
            check=True,
            timeout=120,
        )
        PREVIEW.parent.mkdir(exist_ok=True)
        shutil.copyfile(stem.with_suffix(".png"), PREVIEW)
    print(f"aperçu écrit : {PREVIEW.relative_to(ROOT)}")
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description="Régénère les courriers de référence.")
    parser.add_argument(
        "--preview", action="store_true", help="écrit aussi docs/letter-procureur.png"
    )
    args = parser.parse_args()
    regenerate()
    if args.preview:
        preview()
    return 0


if __name__ == "__main__":
    sys.exit(main())
