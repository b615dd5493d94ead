"""Facts from a doctor's free text: platforms, offences, urgency, volume, author, dates.

Messages are written the way doctors write them: formal, familiar, SMS style, without
accents, with typos. Each table row checks one fact exactly, so that a lexicon change that
breaks it fails here.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from devtools.waiting import hang_deadline
from riposte.nlp import fold
from riposte.nlp.extract import (
    AUTHOR_RELATIONS,
    LEXICON_KEYS,
    OFFENSES,
    PLATFORM_KEYS,
    PRACTICES,
    SLOT_NAMES,
    VOLUMES,
    Facts,
    LexiconError,
    compile_pattern,
    extract_facts,
    load_lexicon,
)

TODAY = date(2024, 3, 1)  # a Friday, the day after 29 February
KNOWLEDGE = Path(__file__).resolve().parents[2] / "riposte" / "knowledge"
LEXICON_FILE = KNOWLEDGE / "lexicon.yml"
PLATFORMS_FILE = KNOWLEDGE / "platforms.yml"


def facts(text: str) -> Facts:
    return extract_facts(text, TODAY)


# ---------------------------------------------------------------------------------------------
# The lexicon file itself
# ---------------------------------------------------------------------------------------------


def _lexicon_yaml() -> dict[str, Any]:
    data = yaml.safe_load(LEXICON_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_every_lexicon_key_maps_to_a_valid_key() -> None:
    data = _lexicon_yaml()
    for group, content in data.items():
        if group in ("version", "thresholds"):
            continue
        assert group in LEXICON_KEYS, group
        for key in content:
            assert key in LEXICON_KEYS[group], f"{group}.{key}"
    assert set(data["offenses"]) == set(OFFENSES)
    assert set(data["volume"]) == set(VOLUMES)
    assert set(data["author_relation"]) == set(AUTHOR_RELATIONS)
    assert set(data["practice"]) == set(PRACTICES)
    assert set(data["platform_aliases"]) <= set(PLATFORM_KEYS)


def test_platform_aliases_point_to_platforms_of_platforms_yml() -> None:
    platforms = yaml.safe_load(PLATFORMS_FILE.read_text(encoding="utf-8"))["platforms"]
    # the contract: exactly these keys
    assert set(platforms) == set(PLATFORM_KEYS)
    assert set(_lexicon_yaml()["platform_aliases"]) <= set(platforms)


def test_every_pattern_is_folded_and_compiles() -> None:
    import re

    for group, content in _lexicon_yaml().items():
        if group in ("version", "thresholds"):
            continue
        for key, patterns in content.items():
            assert isinstance(patterns, list) and patterns, f"{group}.{key} is empty"
            for pattern in patterns:
                assert isinstance(pattern, str), (group, key, pattern)
                body = pattern.removeprefix("!")
                assert fold(body) == body, f"{group}.{key}: {pattern!r} has capitals or accents"
                re.compile(compile_pattern(body))


def test_thresholds_are_positive_integers() -> None:
    thresholds = _lexicon_yaml()["thresholds"]
    assert set(thresholds) == {"raid_messages", "raid_accounts", "repeated_messages"}
    assert all(isinstance(v, int) and v > 0 for v in thresholds.values())


def test_packaged_lexicon_loads_and_is_cached() -> None:
    assert load_lexicon() is load_lexicon()


def test_a_wrong_key_is_refused(tmp_path: Path) -> None:
    data = _lexicon_yaml()
    data["offenses"]["slander"] = ["calomnie"]
    bad = tmp_path / "lexicon.yml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(LexiconError, match="slander"):
        load_lexicon(bad, PLATFORMS_FILE)


def test_an_accented_pattern_is_refused(tmp_path: Path) -> None:
    data = _lexicon_yaml()
    data["offenses"]["insult"].append("crétin")
    bad = tmp_path / "lexicon.yml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(LexiconError, match="accents"):
        load_lexicon(bad, PLATFORMS_FILE)


def test_a_broken_pattern_is_named(tmp_path: Path) -> None:
    data = _lexicon_yaml()
    data["offenses"]["threat"].append("(menace|menaces")
    bad = tmp_path / "lexicon.yml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(LexiconError, match=r"offenses\.threat.*\(menace\|menaces"):
        load_lexicon(bad, PLATFORMS_FILE)


def test_an_alias_for_an_unknown_platform_is_refused(tmp_path: Path) -> None:
    data = _lexicon_yaml()
    data["platform_aliases"]["myspace"] = ["myspace"]
    bad = tmp_path / "lexicon.yml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(LexiconError, match="myspace"):
        load_lexicon(bad, PLATFORMS_FILE)


def test_a_custom_platforms_file_is_used(tmp_path: Path) -> None:
    platforms = tmp_path / "platforms.yml"
    platforms.write_text(
        "platforms:\n"
        "  x: {aliases: [twitter, x], public: true}\n"
        "  facebook: {aliases: [facebook], public: true}\n"
        "  instagram: {aliases: [instagram], public: true}\n"
        "  tiktok: {aliases: [tiktok], public: true}\n"
        "  youtube: {aliases: [youtube], public: true}\n"
        "  google_reviews: {aliases: [google], public: true}\n"
        "  review_site: {aliases: [annuaire], public: true}\n"
        "  forum: {aliases: [forum], public: true}\n"
        "  blog: {aliases: [blog], public: true}\n"
        "  email: {aliases: [courriel], public: false}\n"
        "  sms: {aliases: [sms], public: false}\n"
        "  mastodon: {aliases: [mastodon, pouet], public: true}\n",
        encoding="utf-8",
    )
    lexicon = load_lexicon(LEXICON_FILE, platforms)
    found = extract_facts("il a fait un pouet sur moi", TODAY, lexicon=lexicon)
    assert found.platforms == ["mastodon"]
    assert found.public is True


# ---------------------------------------------------------------------------------------------
# Platforms
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Il m'insulte sur Twitter depuis des semaines", ["x"]),
        ("il a posté un tweet horrible", ["x"]),
        ("sur X il a écrit que j'étais un charlatan", ["x"]),
        ("Son compte X publie mes photos", ["x"]),
        ("sur X (ex-Twitter) et sur Facebook", ["x", "facebook"]),
        ("un post sur x.com", ["x"]),
        ("un commentaire sur FB", ["facebook"]),
        ("sur facebook et insta", ["facebook", "instagram"]),
        ("une story Instagram", ["instagram"]),
        ("une vidéo TikTok et une vidéo YouTube", ["tiktok", "youtube"]),
        ("une vidéo tik tok", ["tiktok"]),
        ("sur linkedin, un confrère", ["linkedin"]),
        ("un canal telegram a diffusé mon adresse", ["telegram"]),
        ("des messages WhatsApp", ["whatsapp"]),
        ("sur snapchat", ["snapchat"]),
        ("un fil reddit", ["reddit"]),
        ("un avis Google", ["google_reviews"]),
        ("ma fiche google", ["google_reviews"]),
        ("un avis sur google maps", ["google_reviews"]),
        ("une note sur Google", ["google_reviews"]),
        ("sur doctolib", ["review_site"]),
        ("un avis sur Doctolib et sur les pages jaunes", ["review_site"]),
        ("sur un forum de doctissimo", ["forum"]),
        ("un article de blog", ["blog"]),
        ("par mail", ["email"]),
        ("un e-mail puis un courriel", ["email"]),
        ("il m'envoie des textos", ["sms"]),
        ("des SMS anonymes", ["sms"]),
        # Calls and voicemail count as `sms` (one key for the phone).
        ("des appels masqués toutes les nuits depuis une semaine", ["sms"]),
        ("il m'a laissé trois messages sur mon répondeur", ["sms"]),
        ("elle m'a hurlé dessus au téléphone", ["sms"]),
        ("il a appelé le secrétariat pour me menacer", ["sms"]),
        ("un patient m'a texté des insultes", ["sms"]),
        # Online articles and petitions are `blog`; named platforms off the list are `other`.
        ("une pétition en ligne demande ma radiation", ["blog"]),
        ("un article en ligne du journal local", ["blog"]),
        ("un site d'extrême droite publie mon nom", ["blog"]),
        ("sur un serveur Discord de lycéens", ["other"]),
        ("sur Bluesky, un compte anonyme", ["other"]),
        ("une fausse annonce sur un site de rencontres", ["other"]),
        ("Bonjour, je suis médecin généraliste.", []),
        ("un avis négatif", []),
    ],
)
def test_platforms(text: str, expected: list[str]) -> None:
    assert facts(text).platforms == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A search engine, a complaint about reaching the practice, a hang-up told in a
        # review, a photo taken from a profile: not where the facts happened.
        ("mes patients peuvent le lire en tapant mon nom sur Google", []),
        ("des avis Google : attente au téléphone, retards", ["google_reviews"]),
        ("un avis 2 étoiles « la secrétaire m'a raccroché au nez »", []),
        ("un faux compte insta avec ma photo de profil Doctolib", ["instagram"]),
        ("un message vocal sur WhatsApp", ["whatsapp"]),
        ("des threads entiers sur X", ["x"]),
    ],
)
def test_places_only_mentioned_are_not_platforms(text: str, expected: list[str]) -> None:
    assert facts(text).platforms == expected


@pytest.mark.parametrize(
    "text",
    [
        "il m'a appelé x fois",
        "j'ai porté plainte contre X",
        "le patient X m'a insulté",
        "Monsieur X est venu",
        "une radio x",
        "c'est un danger réel",
        "un médium",
        "il a répété ça 10x",
        "X, 45 ans, patient de longue date",
    ],
)
def test_ambiguous_aliases_need_a_platform_context(text: str) -> None:
    assert facts(text).platforms == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # brand names with a typo (one edit, two for names of ten letters or more)
        ("un post sur fcebook", ["facebook"]),
        ("sur le groupe facebok du quartier", ["facebook"]),
        ("une story sur instgram", ["instagram"]),
        ("une vidéo youtub", ["youtube"]),
        ("un message sur linkedn", ["linkedin"]),
        ("des vocaux whatapp", ["whatsapp"]),
        ("il m'a envoyé un snapchatt", ["snapchat"]),
        ("une vidéo tiktoc", ["tiktok"]),
        ("un canal telegrm", ["telegram"]),
        ("mon profil doctolibe", ["review_site"]),
        ("ma fiche gogle", ["google_reviews"]),
        ("un fil sur doctisimo", ["forum"]),
        ("sur pagejaunes", ["review_site"]),
        # two words written apart
        ("sur you tub", ["youtube"]),
        ("sur face bouk", ["facebook"]),
        ("sur docto lib", ["review_site"]),
        # loose spellings and generic places
        ("un mec sur tweeter m'insulte", ["x"]),
        ("des faux avis sur gmaps", ["google_reviews"]),
        ("1 étoile sur gg maps", ["google_reviews"]),
        ("un commentaire sur Santé.fr", ["review_site"]),
        ("sur une plateforme de notation des médecins", ["review_site"]),
        ("un fil sur Carenity", ["forum"]),
        # the order of the text; a negated typo does not count
        ("sur instgram puis sur fcebook", ["instagram", "facebook"]),
        ("ce n'est pas fcebook mais instgram", ["instagram"]),
    ],
)
def test_platforms_despite_typos(text: str, expected: list[str]) -> None:
    assert facts(text).platforms == expected


@pytest.mark.parametrize(
    "text",
    ["j'ai googlé mon nom", "il m'a googlée", "je me suis googlé", "il faut le googler"],
)
def test_googling_is_a_search_not_a_google_review(text: str) -> None:
    assert facts(text).platforms == []


@pytest.mark.parametrize(
    "text",
    [
        # French words one letter away from a platform name or alias: never typos
        "il bloque mes appels",  # blogue
        "un vrai message de soutien",  # imessage
        "une lettre par courrier",  # courriel
        "il a réduit mes honoraires",  # reddit
        "il me rendit visite",  # reddit
        "à l'instar de mes confrères",  # insta
        "en un instant",  # insta
        "en face de mon cabinet",  # face book
        "face à la situation",
        "un vieux twister",  # twitter
        "des textes anonymes",  # textos
        "sur le site de la clinique",  # site alone
        "un tic nerveux",  # tik tok
        "you know",  # youtube
        "un messager",  # messenger
    ],
)
def test_words_near_a_platform_name_are_not_platforms(text: str) -> None:
    assert facts(text).platforms == []


def test_typo_tolerant_names_are_aliases_of_their_platform() -> None:
    platforms = yaml.safe_load(PLATFORMS_FILE.read_text(encoding="utf-8"))["platforms"]
    data = _lexicon_yaml()
    for key, names in data["platform_typos"].items():
        aliases = {fold(a) for a in platforms[key]["aliases"]}
        aliases |= set(data["platform_aliases"].get(key, []))
        for name in names:
            assert name in aliases, f"platform_typos.{key}: {name}"
            assert len(name) >= 6, f"platform_typos.{key}: {name} is too short for typos"


def test_a_short_typo_tolerant_name_is_refused(tmp_path: Path) -> None:
    data = _lexicon_yaml()
    data["platform_typos"]["facebook"].append("fb")
    bad = tmp_path / "lexicon.yml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(LexiconError, match="'fb' is too short"):
        load_lexicon(bad, PLATFORMS_FILE)


# ---------------------------------------------------------------------------------------------
# Offences
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # insult
        ("Il m'a traité de charlatan sur Facebook", {"insult"}),
        ("ce mec me traite d'assassin", {"insult"}),
        ("un commentaire : « connard de toubib »", {"insult"}),
        ("elle écrit que je suis une escroc", {"insult"}),
        ("des insultes sous mes posts", {"insult"}),
        ("des propos injurieux", {"insult"}),
        ("ma traité de boucher", {"insult"}),
        # defamation
        ("Il m'accuse d'avoir falsifié son dossier médical", {"defamation"}),
        ("il prétend que j'ai volé des médicaments", {"defamation"}),
        ("Elle dit que j'ai falsifié des arrêts de travail", {"defamation"}),
        ("il raconte des mensonges sur moi", {"defamation"}),
        ("c'est de la diffamation", {"defamation"}),
        ("il affirme que je l'ai agressée pendant la consultation", {"defamation"}),
        ("il raconte à tous mes patients que je me drogue", {"defamation"}),
        ("un avis disant que j'ai maltraité son fils", {"defamation"}),
        ("un blog publie des rumeurs sur mon cabinet", {"defamation"}),
        # threat
        ("il m'a menacé", {"threat"}),
        ("j'ai été menacée de mort", {"threat"}),
        ("je vais te retrouver", {"threat"}),
        ("on va te crever sale toubib", {"threat"}),
        ("il m'a menassé", {"threat"}),
        ("il écrit : on sait où tu habites", {"threat"}),
        ("certains me souhaitent la mort", {"threat"}),
        ("tu vas le regretter, gare à toi", {"threat"}),
        # doxxing
        ("il a publié mon adresse personnelle", {"doxxing"}),
        ("mon adresse a été diffusée sur un groupe", {"doxxing"}),
        ("ils ont posté des infos sur ma famille", {"doxxing"}),
        ("mon numéro de téléphone diffusé partout", {"doxxing"}),
        ("je me suis fait doxxer", {"doxxing"}),
        ("mon adresse publiée sur un forum", {"doxxing"}),
        ("ils ont balancé l'adresse de mon domicile", {"doxxing"}),
        # impersonation
        ("quelqu'un a créé un faux profil", {"impersonation"}),
        ("il se fait passer pour moi auprès de mes patients", {"impersonation"}),
        ("usurpation d'identité", {"impersonation"}),
        ("un compte à mon nom que je n'ai pas créé", {"impersonation"}),
        # privacy
        ("une photo de moi prise chez moi", {"privacy"}),
        ("j'ai été filmée à mon insu en consultation", {"privacy"}),
        ("il a mis en ligne des photos de mon jardin", {"privacy"}),
        # harassment
        ("c'est du harcèlement", {"harassment"}),
        ("je suis victime de cyberharcelement", {"harassment"}),
        ("un raid contre moi", {"harassment"}),
        ("des centaines de messages haineux", {"harassment", "insult"}),
        ("il m'écrit tous les jours", {"harassment"}),
        ("harcelement h24", {"harassment"}),
        # combinations
        ("il me harcèle et m'a menacé de mort", {"harassment", "threat"}),
        (
            "depuis des semaines il m'insulte tous les jours sur twitter",
            {"insult", "harassment"},
        ),
        ("il m'insulte encore et encore", {"insult", "harassment"}),
        ("il a publié mon adresse et écrit qu'il allait me tuer", {"doxxing", "threat"}),
        ("un compte m'envoie 🔪🔫 en message privé", {"threat"}),
    ],
)
def test_offenses(text: str, expected: set[str]) -> None:
    assert set(facts(text).offenses) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Bonjour, je suis médecin généraliste à Lyon.",
        "Que dois-je faire ?",
        "il me menace de porter plainte",
        "il menace de me signaler à l'Ordre",
        "il dit que je suis une menace pour la santé publique",
        "lettre recommandée avec accusé de réception",
        "il dit que j'ai été en retard",
        "une ancienne patiente m'a mis un avis négatif",
        "mon confrère m'a conseillé de vous écrire",
        "je suis meurtrie",
        "il me suit sur Instagram",
    ],
)
def test_no_offense(text: str) -> None:
    assert facts(text).offenses == []


def test_offenses_are_listed_in_a_stable_order() -> None:
    found = facts("Il m'a menacé de mort, m'insulte et a publié mon adresse personnelle")
    assert found.offenses == ["insult", "threat", "doxxing"]


@pytest.mark.parametrize(
    ("text", "outrage"),
    [
        # Issue 16: a private insult alone is not outrage (the words must concern the
        # doctor's work, which the advice engine decides).
        ("il m'envoie des insultes par mail", False),
        ("des SMS insultants tous les soirs", False),
        ("connard, voilà ce qu'il m'écrit en MP", False),
        ("un message privé ordurier", True),
        ("des messages obscènes sur Messenger tous les soirs", True),
        # public insults are not outrage
        ("il m'insulte sur Facebook", False),
        ("un avis insultant sur Google", False),
        # private but no insult
        ("il m'envoie des mails pour se plaindre du retard", False),
        # insult, context unknown
        ("il m'a traité de charlatan", False),
    ],
)
def test_outrage_needs_a_private_context(text: str, outrage: bool) -> None:
    assert ("outrage" in facts(text).offenses) is outrage


# ---------------------------------------------------------------------------------------------
# Negation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "absent", "present"),
    [
        ("pas de menace, juste des insultes", "threat", "insult"),
        ("il ne m'a pas menacé mais il m'insulte", "threat", "insult"),
        ("il n'y a eu aucune menace", "threat", None),
        ("je n'ai jamais été menacée", "threat", None),
        ("ni menace ni insulte, juste un avis sévère", "threat", None),
        ("ni menace ni insulte, juste un avis sévère", "insult", None),
        ("il n'a pas publié mon adresse personnelle", "doxxing", None),
        ("ce n'est pas du harcèlement, c'est un seul message", "harassment", None),
        ("pas d'insulte", "insult", None),
        ("il ne m'a plus menacé depuis", "threat", None),
        # things that look like negations but are not
        ("je n'ai pas répondu à ses insultes", None, "insult"),
        ("pas seulement des insultes, aussi des menaces", None, "threat"),
        ("pas seulement des insultes, aussi des menaces", None, "insult"),
        ("il m'insulte sans arrêt", None, "insult"),
        ("de plus en plus de menaces", None, "threat"),
        ("pas mal de menaces ces derniers temps", None, "threat"),
        ("je n'en peux plus des menaces", None, "threat"),
        ("je ne supporte plus ses insultes", None, "insult"),
        ("Non seulement il m'insulte, mais il me menace", None, "threat"),
    ],
)
def test_negation(text: str, absent: str | None, present: str | None) -> None:
    found = facts(text).offenses
    if absent:
        assert absent not in found
    if present:
        assert present in found


# ---------------------------------------------------------------------------------------------
# Lawful criticism
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Une patiente m'a laissé un avis négatif, elle dit que j'ai été en retard", True),
        ("mauvaise note sur google, il trouve que j'ai été froid", True),
        ("1 étoile : « temps d'attente scandaleux »", True),
        ("il m'a mis 1/5 en disant que je ne prends pas le temps", True),
        ("un avis qui dit que je suis expéditive et pas à l'écoute", True),
        ("avis negatif: docteur desagreable, je deconseille", True),
        # criticism with an offence is not "lawful criticism"
        ("un avis négatif où il me traite de charlatan", False),
        ("mauvais avis : il m'accuse d'avoir falsifié un certificat", False),
        # nothing about criticism
        ("il m'a menacé de mort", None),
        ("Bonjour", None),
    ],
)
def test_lawful_criticism(text: str, expected: bool | None) -> None:
    found = facts(text)
    assert found.lawful_criticism is expected
    if expected:
        assert found.offenses == []


# ---------------------------------------------------------------------------------------------
# Urgency and physical danger
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "urgent", "physical"),
    [
        ("j'ai reçu des menaces de mort", True, True),
        ("il a écrit qu'il allait me tuer", True, True),
        ("on va te crever", True, True),
        ("il sait où j'habite", True, True),
        ("il sait ou jhabite", True, True),
        ("il m'attend devant mon cabinet le soir", True, True),
        ("il était devant mon cabinet ce matin", True, True),
        ("j'ai peur pour ma sécurité", True, True),
        ("j'ai peur pour mes enfants", True, True),
        ("je ne me sens plus en sécurité", True, True),
        ("mon adresse a été publiée avec « allez lui rendre visite »", True, True),
        ("ils ont diffusé mon adresse et appellent à venir au cabinet", True, True),
        ("il est venu au cabinet en hurlant", True, True),
        (
            "une photo de ma maison et mon adresse sur Telegram avec « à bon entendeur »",
            True,
            True,
        ),
        ("il m'a menacée de me retrouver à la sortie du cabinet", True, True),
        # indirect threats and reported death wishes (recall first: 17 and 112 first)
        ("il a écrit qu'il faudrait l'abattre comme un chien", True, True),
        ("un patient m'a ecrit sur insta qu'il faudrait m'abattre", True, True),
        ("« tu vas payer » par SMS anonyme chaque nuit", True, True),
        ("sous une capture de mon agenda : « on sait où la trouver »", True, True),
        ("il a posté le nom de l'école de mes enfants", True, True),
        ("le patient a dit à ma secrétaire qu'il allait les tuer toutes les deux", True, True),
        ("un commentaire : « la prochaine c'est toi »", True, True),
        ("il m'a envoyé une photo de son fusil", True, True),
        # veiled threats: time running out, a weapon hinted at, a call to « know what to do »
        ("« tu ne profiteras pas longtemps, je connais tes horaires »", True, True),
        ("sous mes stories, toujours le même compte : 🔪🔪", True, True),
        ("« personne n'est intouchable »", True, True),
        ("il a posté ma photo : « vous savez quoi faire »", True, True),
        ("un avis qui finit par « on se retrouvera, docteur »", True, True),
        ("ils parlent de me casser les genoux", True, True),
        ("« si je le croise, je lui plante mes clés dans le bide »", True, True),
        ("un avis de décès à mon nom sur un site de nécrologie", True, True),
        # the doctor's own distress: urgent, but no danger from others
        ("j'ai des idées noires, je pense au suicide", True, None),
        ("honnêtement j'ai envie d'en finir", True, None),
        ("je ne vois plus d'issue, je n'ai plus la force de continuer", True, None),
        ("j'ai des idées de mort depuis la campagne contre moi", True, None),
        ("je me dis que je serais mieux morte", True, None),
        ("envie de disparaître. le faux profil continue", True, None),
        ("je me surprends à penser que si je sautais du parking, tout s'arrêterait", True, None),
        # denials
        ("je ne suis pas en danger", False, False),
        ("pas de menace de mort, des insultes", False, False),
        ("je me sens en sécurité, c'est juste pénible", False, False),
        ("aucun danger immédiat", False, False),
        # silence: the bot must still ask
        ("il m'insulte sur Facebook", None, None),
        ("il m'a menacé de porter plainte", None, None),
        ("mon adresse a été publiée", None, None),
        ("il dit que j'ai mis en danger ses enfants", None, None),
        ("on se retrouvera au tribunal", None, None),
        # the doctor's own words, not a threat
        ("si je le croise au cabinet, je dois refuser de le soigner ?", None, None),
        ("je voudrais aller lui expliquer ma décision", None, None),
        ("la mère m'insulte devant ses enfants à la sortie de l'école", None, None),
        ("je suis en arrêt, mais pas pour longtemps", None, None),
        ("j'ai dû sauter d'un rendez-vous à l'autre toute la journée", None, None),
        ("mes gardes me tuent ⚰️, mort de rire 💀", None, None),
        ("ce boulot va me tuer", True, True),  # known over-detection: a figure of speech
    ],
)
def test_urgency(text: str, urgent: bool | None, physical: bool | None) -> None:
    found = facts(text)
    assert found.urgent is urgent
    assert found.physical_danger is physical


def test_abattu_is_dejection_unless_it_is_a_wish_to_kill() -> None:
    # « abattu(e) » alone is the doctor's dejection (or "a lot of work done"), not a danger
    for text in (
        "je suis abattue par ces avis",
        "je suis complètement abattu depuis cette histoire",
        "on a abattu 62 patients aujourd'hui, record battu",
        "il y a du boulot à abattre",
    ):
        assert facts(text).urgent is None, text
    # the wish to kill stays a danger: infinitive, subjunctive, passive, « à abattre »
    for text in (
        "il a écrit qu'il faudrait l'abattre",
        "un commentaire dit qu'on l'abatte comme un chien",
        "elle devrait être abattue",
        "il mérite d'être abattu",
        "il faut qu'elle soit abattue",
        "un médecin à abattre",
        "il faudrait le castrer",
        "on va te castrer",
    ):
        found = facts(text)
        assert (found.urgent, found.physical_danger) == (True, True), text


# ---------------------------------------------------------------------------------------------
# Volume, visibility
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("un seul message, hier", "single"),
        ("une patiente a laissé un avis", "single"),
        ("il a publié une vidéo sur moi", "single"),
        ("il m'a écrit plusieurs fois", "repeated"),
        ("à plusieurs reprises", "repeated"),
        ("il m'envoie des messages tous les jours", "repeated"),
        ("depuis des semaines", "repeated"),
        ("3 fois cette semaine", "repeated"),
        ("c'est la troisième fois", "repeated"),
        ("il m'a envoyé 12 mails", "repeated"),
        ("je suis harcelée", "repeated"),
        ("un raid sur twitter", "raid"),
        ("des centaines de commentaires", "raid"),
        ("des dizaines de comptes m'insultent", "raid"),
        ("une meute d'antivax", "raid"),
        ("une vague de haine", "raid"),
        ("un influenceur a relayé la vidéo", "raid"),
        ("la vidéo a été relayée par un influenceur", "raid"),
        ("j'ai reçu 200 messages en deux jours", "raid"),
        ("plus de 30 comptes différents", "raid"),
        ("plein de comptes anonymes", "raid"),
        ("c'est devenu viral", "raid"),
        ("Bonjour", None),
    ],
)
def test_volume(text: str, expected: str | None) -> None:
    assert facts(text).volume == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("il m'a envoyé un message privé", False),
        ("en DM sur insta", False),
        ("il m'écrit en mp", False),
        ("par mail", False),
        ("des textos la nuit", False),
        ("des appels anonymes au cabinet", False),
        ("il m'écrit sur Messenger", False),
        ("un courrier anonyme", False),
        ("sur WhatsApp", False),
        ("une publication sur Facebook", True),
        ("un commentaire sous ma vidéo", True),
        ("il a tweeté", True),
        ("un avis Google", True),
        ("un post LinkedIn", True),
        ("sur son blog", True),
        ("sur les réseaux sociaux", True),
        ("sur tiktok", True),
        ("à mon avis il est malade", None),
        ("il m'a insulté", None),
        # a public and a private element: public content exists
        ("un tweet puis des messages privés", True),
    ],
)
def test_public(text: str, expected: bool | None) -> None:
    assert facts(text).public is expected


# ---------------------------------------------------------------------------------------------
# Author, handles, practice
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "relation", "known"),
    [
        ("un patient m'insulte", "patient", None),
        ("une patiente mécontente", "patient", None),
        ("une ancienne patiente", "patient", None),
        ("la mère d'un patient", "patient", None),
        ("la mere d'une petite patiente", "patient", None),
        ("un de mes patients", "patient", None),
        ("un confrère me dénigre", "colleague", None),
        ("une consœur", "colleague", None),
        ("une consoeur", "colleague", None),
        ("un collègue médecin", "colleague", None),
        ("mon ancien associé", "colleague", None),
        ("mon ex-associé raconte des horreurs", "colleague", None),
        ("mon ex me harcèle", "other", None),
        ("c'est anonyme", "unknown", False),
        ("un compte sous pseudo", "unknown", False),
        ("je ne sais pas qui c'est", "unknown", False),
        ("je sais pas qui", "unknown", False),
        ("des trolls", "unknown", False),
        ("un voisin", "other", None),
        ("un influenceur antivax", "other", None),
        ("un journaliste local", "other", None),
        ("une patiente, je sais qui c'est", "patient", True),
        ("un patient que je connais, il signe de son vrai nom", "patient", True),
        ("un anonyme, mais je sais qui c'est", "unknown", True),
        # not the author
        ("un confrère m'a conseillé de vous écrire", None, None),
        ("j'en ai parlé à un confrère", None, None),
        ("une pétition en ligne dit que j'ai tué un patient", None, None),
        ("il raconte que j'ai opéré une patiente sans son accord", None, None),
        ("il n'est pas anonyme", None, None),
        ("Bonjour", None, None),
    ],
)
def test_author(text: str, relation: str | None, known: bool | None) -> None:
    found = facts(text)
    assert found.author_relation == relation
    assert found.author_known is known


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("le compte @Dr_Vérité_Santé et @antivax_44 m'insultent", ["@Dr_V", "@antivax_44"]),
        ("c'est @jean.dupont. Il recommence", ["@jean.dupont"]),
        ("écrivez-moi à jean@example.org", []),
        ("@toto @toto @Toto", ["@toto", "@Toto"]),
        ("pas de pseudo", []),
    ],
)
def test_handles(text: str, expected: list[str]) -> None:
    assert facts(text).handles == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("je suis médecin libéral", "liberal"),
        ("généraliste en cabinet depuis 10 ans", "liberal"),
        ("je suis installée en ville", "liberal"),
        ("je suis PH", "hospital"),
        ("praticien hospitalier aux urgences", "hospital"),
        ("je travaille au CHU de Nantes", "hospital"),
        ("je bosse à l'hôpital", "hospital"),
        ("je suis salariée d'un centre de santé", "salaried"),
        ("médecin du travail", "salaried"),
        ("je suis à la retraite", "other"),
        ("il dit que son fils a fini à l'hôpital à cause de moi", None),
        ("Bonjour", None),
    ],
)
def test_practice(text: str, expected: str | None) -> None:
    assert facts(text).practice == expected


# ---------------------------------------------------------------------------------------------
# Discrimination
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("il m'a traitée de sale arabe", True),
        ("sale juif, retourne dans ton pays", True),
        ("il m'insulte à cause de ma religion", True),
        ("il s'en prend à moi parce que je suis une femme", True),
        ("des insultes homophobes", True),
        ("il m'a traité de pd", True),
        ("des messages racistes", True),
        ("ce n'est pas raciste, juste méchant", None),
        ("il m'a traité de charlatan", None),
    ],
)
def test_discriminatory(text: str, expected: bool | None) -> None:
    found = facts(text)
    assert found.discriminatory is expected
    if expected and ("sale" in text or "pd" in text):
        assert "insult" in found.offenses


# ---------------------------------------------------------------------------------------------
# Dates: first publication and last one
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("depuis le 3 janvier il m'insulte", date(2024, 1, 3), None),
        ("ça a commencé il y a deux semaines", date(2024, 2, 16), None),
        ("depuis une semaine", date(2024, 2, 23), None),
        ("encore hier", None, date(2024, 2, 29)),
        ("le dernier hier", None, date(2024, 2, 29)),
        ("le dernier message date d'avant-hier", None, date(2024, 2, 28)),
        ("hier encore il a publié", None, date(2024, 2, 29)),
        (
            "Depuis le 3 janvier il m'insulte sur Facebook, encore hier il a posté",
            date(2024, 1, 3),
            date(2024, 2, 29),
        ),
        (
            "le premier message date du 12/01/2024, le dernier de lundi dernier",
            date(2024, 1, 12),
            date(2024, 2, 26),
        ),
        # an unlabelled date is the publication; a later one the last
        ("il a publié un avis hier", date(2024, 2, 29), None),
        ("un patient m'a insulté sur facebook il y a 3 jours", date(2024, 2, 27), None),
        ("le 3 janvier, puis le 10 février", date(2024, 1, 3), date(2024, 2, 10)),
        # dates that say nothing about the publication
        ("j'ai découvert hier un avis", None, None),
        ("je suis installée depuis 10 ans", None, None),
        ("je l'ai vu en consultation le 3 janvier", None, None),
        (
            "je suis installé depuis 2015 et depuis une semaine il m'insulte",
            date(2024, 2, 23),
            None,
        ),
        ("demain j'appelle un avocat", None, None),
    ],
)
def test_dates(text: str, first: date | None, last: date | None) -> None:
    found = facts(text)
    assert found.first_published == first
    assert found.last_seen == last


# ---------------------------------------------------------------------------------------------
# Whole messages and slots
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "slots"),
    [
        (
            "Bonjour, je suis médecin généraliste libéral. Depuis le 3 janvier, un ancien "
            "patient m'insulte sur Facebook (il me traite de charlatan), tous les jours. "
            "Encore hier il a publié un post.",
            {
                "platforms": ["facebook"],
                "offenses": ["insult", "harassment"],
                "volume": "repeated",
                "public": True,
                "author_relation": "patient",
                "practice": "liberal",
                "first_published": "2024-01-03",
                "last_seen": "2024-02-29",
            },
        ),
        (
            "jsuis PH au CHU, g recu des menaces de mort par sms ce matin, il sait ou jhabite",
            {
                "platforms": ["sms"],
                "offenses": ["threat"],
                "urgent": True,
                "physical_danger": True,
                "public": False,
                "practice": "hospital",
                "first_published": "2024-03-01",
            },
        ),
        (
            "Une patiente m'a mis un avis négatif sur Google il y a 2 semaines : "
            "« attente trop longue, docteur pas aimable ». Pas d'insulte. Que faire ?",
            {
                "platforms": ["google_reviews"],
                "volume": "single",
                "public": True,
                "author_relation": "patient",
                "first_published": "2024-02-16",
                "lawful_criticism": True,
            },
        ),
        (
            "Un influenceur antivax a relayé une vidéo de moi, depuis des centaines de comptes "
            "anonymes m'insultent sur X et TikTok, certains me traitent de sale juive. "
            "@verite_sante a publié l'adresse de mon cabinet.",
            {
                "platforms": ["x", "tiktok"],
                "offenses": ["insult", "harassment", "doxxing"],
                "volume": "raid",
                "public": True,
                "author_relation": "other",
                "author_known": False,
                "author_handles": ["@verite_sante"],
                "practice": "liberal",
                "discriminatory": True,
            },
        ),
        (
            "QUELQU'UN A CRÉÉ UN FAUX PROFIL À MON NOM SUR INSTAGRAM ET SE FAIT PASSER POUR MOI",
            {
                "platforms": ["instagram"],
                "offenses": ["impersonation"],
                "public": True,
            },
        ),
        ("", {}),
        ("Bonjour", {}),
    ],
)
def test_whole_messages(text: str, slots: dict[str, Any]) -> None:
    assert facts(text).to_slots() == slots


@pytest.mark.parametrize(
    "text",
    [
        "oui",
        "non",
        "Bonjour, comment porter plainte ?",
        "Quelles sont les coordonnées du CDOM ?",
        "Est-ce que la CNIL peut m'aider ?",
        "Mon avocat m'a dit d'attendre.",
        "Je veux écrire au procureur de la République.",
        "Je travaille tous les jours de 8h à 20h, je n'ai pas le temps pour ça.",
        "Je suis en arrêt depuis une semaine à cause du stress.",
        "J'ai appelé le 17 hier soir.",
        "Je suis médecin depuis 15 ans et je n'ai jamais vu ça.",
        "Je me sens en danger de perdre ma patientèle",
        "Je ne veux pas porter plainte, juste que ça s'arrête",
    ],
)
def test_ordinary_messages_give_no_facts(text: str) -> None:
    assert facts(text).to_slots() == {}


def test_to_slots_uses_only_the_documented_names() -> None:
    full = Facts(
        platforms=["x"],
        offenses=["insult"],
        urgent=False,
        physical_danger=False,
        volume="single",
        public=True,
        author_relation="patient",
        author_known=True,
        handles=["@a"],
        practice="liberal",
        discriminatory=True,
        first_published=date(2024, 1, 3),
        last_seen=date(2024, 2, 29),
        lawful_criticism=False,
        wants_reply=True,
        evidence={"offenses.insult": ["connard"]},
    )
    slots = full.to_slots()
    assert tuple(slots) == SLOT_NAMES
    assert slots["first_published"] == "2024-01-03"
    assert slots["author_handles"] == ["@a"]
    assert slots["urgent"] is False  # a denial is information: kept
    assert Facts().to_slots() == {}


def test_evidence_quotes_the_original_words() -> None:
    found = facts("Il m’a traité de CHARLATAN sur Fb")
    assert found.evidence["offenses.insult"] == ["m’a traité de", "CHARLATAN"]
    assert found.evidence["platforms.facebook"] == ["Fb"]


# ---------------------------------------------------------------------------------------------
# Robustness and cost
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        " \n\t ",
        "😡🤬💩" * 300,
        "<html><body><p onclick='menace'>Il m'a <b>menacé</b> de mort</p></body></html>",
        "\x00\x1f\u202e hier \ufeff",
        "İ" * 100 + " connard",
        "a" * 50_000,
        "pas " * 10_000 + "menace",
        "il y a " * 5_000,
        "@" * 10_000,
        "sur x " * 5_000,
        "... " * 10_000,
        "menace de ... " * 3_000,
    ],
    ids=lambda text: f"{text[:12]!r}x{len(text)}",
)
def test_odd_input_never_raises(text: str) -> None:
    started = time.perf_counter()
    found = extract_facts(text, TODAY)
    assert isinstance(found, Facts)
    assert set(found.to_slots()) <= set(SLOT_NAMES)
    assert time.perf_counter() - started < hang_deadline()  # the speed: bench/bench_text.py


def test_html_markup_does_not_hide_the_words() -> None:
    found = facts("<p>Il m'a <b>menacé</b> de <i>mort</i></p>")
    assert found.offenses == ["threat"]
    assert found.urgent is True


@pytest.mark.parametrize("value", [None, 42, b"connard", ["connard"]])
def test_non_string_input_gives_empty_facts(value: Any) -> None:
    assert extract_facts(value, TODAY).to_slots() == {}


def test_long_messages_are_read_without_hanging() -> None:
    chunk = (
        "Depuis le 3 janvier un patient m'insulte sur Facebook, il m'a menacé, "
        "pas de menace de mort, encore hier un post @troll_1. "
    )
    text = (chunk * (50_000 // len(chunk) + 1))[:50_000]
    extract_facts(chunk, TODAY)  # warm-up (lexicon compilation)
    started = time.perf_counter()
    found = extract_facts(text, TODAY)
    elapsed = time.perf_counter() - started
    assert "insult" in found.offenses
    # a quadratic cost would take minutes; the speed is measured by bench/bench_text.py
    assert elapsed < hang_deadline()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("je voudrais lui répondre sur Google", True),
        ("j'ai préparé une réponse à son avis", True),
        ("j'ai envie de leur repondre", True),
        ("j'aimerais lui répondre poliment", True),
        ("faut-il répondre à un avis négatif ?", None),
        ("je ne veux pas lui répondre", None),
    ],
)
def test_wish_to_reply(text: str, expected: bool | None) -> None:
    assert extract_facts(text, TODAY).to_slots().get("wants_reply") is expected
