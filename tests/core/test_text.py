from datetime import date, datetime, timedelta, timezone

from riposte.letters.filters import date_num
from riposte.nlp.evidence import is_none_answer
from riposte.store.bundle import format_date, format_datetime
from riposte.store.codes import normalise_secret
from riposte.text import ascii_name, date_fr, datetime_fr, fold, number_fr
from riposte_rasa.channels.evidence_files import file_name


def test_fold_lowers_strips_accents_and_unifies_apostrophes() -> None:
    assert fold("  Déjà l’Été  ") == "deja l'ete"
    assert fold("Ça va ?!", strip=" ?!") == "ca va"


def test_dates_are_numeric_french() -> None:
    assert date_fr(date(2026, 3, 7)) == "07/03/2026"
    assert date_fr(datetime(2026, 3, 7, 9, 5)) == "07/03/2026"
    assert datetime_fr(datetime(2026, 3, 7, 9, 5)) == "07/03/2026 09:05"


def test_the_date_formats_agree_with_strftime_and_the_letter_filter() -> None:
    day = date(2026, 1, 1)
    for offset in range(0, 800, 7):
        d = day + timedelta(days=offset)
        moment = datetime(d.year, d.month, d.day, offset % 24, offset % 60)
        assert date_fr(d) == d.strftime("%d/%m/%Y") == date_num(d) == format_date(d)
        assert datetime_fr(moment) == moment.strftime("%d/%m/%Y %H:%M")
    aware = datetime(2026, 6, 2, 9, 15, tzinfo=timezone(timedelta(hours=2)))
    assert format_datetime(aware) == "02/06/2026 09:15 UTC+02:00"


def test_ascii_name_keeps_a_safe_file_name() -> None:
    assert ascii_name("Capture d’écran (1).png", 80) == "Capture-decran-1-.png"
    assert ascii_name("..été..", 80) == "ete"
    assert ascii_name("日本語", 80) == ""
    assert ascii_name("a" * 100, 60) == "a" * 60
    received = datetime(2026, 11, 24, 9, 30, tzinfo=timezone.utc)
    assert (
        file_name("telegram", "png", "C:\\Photos\\Écran é.PNG", received)
        == "telegram-20261124-093000-Ecran-e.png"
    )
    assert file_name("signal", "pdf", "日本", received) == "signal-20261124-093000-document.pdf"


def test_secrets_fold_as_before() -> None:
    # The normalised secret is what is hashed: any change would lock doctors out of their cases.
    assert normalise_secret("Ré-Ça  ﬁl ᴬbc") == "re-ca-fil-abc"
    assert normalise_secret("ℂœur Ⅻ İle") == "c-ur-xii-ile"
    assert normalise_secret("l’été—mer") == "l-ete-mer"
    assert normalise_secret("Ａｂｃ １２") == "abc-12"


def test_short_answers_fold_with_the_shared_helper() -> None:
    assert is_none_answer("  Aucune ! ") == is_none_answer("aucune")


def test_numbers_are_grouped_the_french_way() -> None:
    assert number_fr(7) == "7"
    assert number_fr(12345) == "12\u202f345"
    assert number_fr(10485760) == "10\u202f485\u202f760"
