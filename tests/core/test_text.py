from datetime import date, datetime

from riposte.text import date_fr, datetime_fr, fold


def test_fold_lowers_strips_accents_and_unifies_apostrophes() -> None:
    assert fold("  Déjà l’Été  ") == "deja l'ete"
    assert fold("Ça va ?!", strip=" ?!") == "ca va"


def test_dates_are_numeric_french() -> None:
    assert date_fr(date(2026, 3, 7)) == "07/03/2026"
    assert date_fr(datetime(2026, 3, 7, 9, 5)) == "07/03/2026"
    assert datetime_fr(datetime(2026, 3, 7, 9, 5)) == "07/03/2026 09:05"
