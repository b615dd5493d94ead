"""The sample letters of the golden-file tests: (case file, kind, options), rendered as of TODAY.

Each sample is rendered to Markdown and compared with `golden/<case>__<kind>.md`. After a
deliberate change to a template, regenerate with

    .venv/bin/python -m tests.letters.regen

then review every changed line (`git diff tests/letters/golden`) before committing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from riposte.letters.build import LetterOptions

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"
GOLDEN = HERE / "golden"
TODAY = date(2026, 11, 24)

REPLY_TEXT = (
    "Je conteste formellement avoir délivré des certificats de complaisance, contre rémunération "
    "ou autrement. Aucune procédure disciplinaire ni judiciaire n'a jamais été engagée contre moi "
    "à ce sujet."
)


@dataclass(frozen=True)
class Sample:
    case: str
    kind: str
    options: LetterOptions = field(default_factory=LetterOptions)

    @property
    def case_path(self) -> Path:
        return CASES / f"{self.case}.json"

    @property
    def golden_path(self) -> Path:
        return GOLDEN / f"{self.case}__{self.kind}.md"

    @property
    def id(self) -> str:
        return f"{self.case}-{self.kind}"


SAMPLES: tuple[Sample, ...] = (
    # Liberal practice, named author, defamation on a blog, deadline open.
    Sample("liberal_named_defamation", "procureur", LetterOptions(civil_party=True)),
    Sample("liberal_named_defamation", "platform_notice"),
    Sample("liberal_named_defamation", "erasure_request"),
    Sample("liberal_named_defamation", "right_of_reply", LetterOptions(reply_text=REPLY_TEXT)),
    Sample("liberal_named_defamation", "formal_notice"),
    Sample("liberal_named_defamation", "cdom_declaration"),
    # Hospital practice, raid against X: insult, threats, harassment.
    Sample("hospital_raid_contre_x", "procureur"),
    Sample("hospital_raid_contre_x", "functional_protection"),
    Sample("hospital_raid_contre_x", "cdom_declaration"),
    Sample("hospital_raid_contre_x", "platform_notice"),
    # Liberal practice: defamation prescribed, harassment still open; court city given.
    Sample("liberal_expired_mixed", "procureur"),
    Sample("liberal_expired_mixed", "platform_notice"),
    Sample("liberal_expired_mixed", "erasure_request"),
    Sample("liberal_expired_mixed", "cnil_complaint"),
    # Lawful review on a Google business profile, known author.
    Sample("review_site_fiche", "erasure_request"),
    Sample("review_site_fiche", "cnil_complaint"),
    Sample("review_site_fiche", "formal_notice"),
    # Private e-mail: non-public insult (contravention) and outrage (2025 law).
    Sample("private_outrage", "procureur"),
    Sample("private_outrage", "cdom_declaration"),
    # Physical danger: address published and threat, on Telegram.
    Sample("doxxing_danger", "procureur"),
    Sample("doxxing_danger", "platform_notice"),
    # Public insults since June, each statement dated: two too old, two still open (the first
    # open deadline falls on 1 January, a public holiday); birth date and place given.
    Sample("press_statements_old_open", "procureur"),
    # Public discriminatory insult whose words show the motive (origin): one paragraph cited;
    # birth date and place absent (blanks to fill).
    Sample("discriminatory_insult_origin", "procureur"),
    Sample("discriminatory_insult_origin", "platform_notice"),
    # A patient threatens a hospital doctor by e-mail (art. 433-3): the employer may file.
    Sample("patient_threat", "procureur"),
    Sample("patient_threat", "functional_protection"),
)
