"""The web page's server side: its Content-Security-Policy, /config.json, the vendored client."""

from __future__ import annotations

import hashlib
import re

import pytest

from riposte.settings import MAX_MESSAGE_CHARS, QUICK_EXIT_DEFAULT_URL, Settings, SettingsError
from riposte.web.server import WEB_DIR, content_security_policy, page_config, socket_origins


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost:8080", ["http://localhost:5005", "ws://localhost:5005"]),
        ("127.0.0.1", ["http://127.0.0.1:5005", "ws://127.0.0.1:5005"]),
        ("[::1]:8080", ["http://[::1]:5005", "ws://[::1]:5005"]),
        ('evil"; script-src *', []),
        ("", []),
        (None, []),
    ],
)
def test_the_page_may_connect_only_to_its_own_rasa(host: str | None, expected: list[str]) -> None:
    assert socket_origins(Settings.from_env({}), host) == expected


def test_a_configured_socket_url_is_the_only_other_connection() -> None:
    settings = Settings.from_env({"RIPOSTE_SOCKET_URL": "https://chat.example.org/"})
    assert socket_origins(settings, "whatever:1") == [
        "https://chat.example.org",
        "wss://chat.example.org",
    ]
    policy = content_security_policy(socket_origins(settings, None))
    assert "connect-src 'self' https://chat.example.org wss://chat.example.org;" in policy
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe" not in policy


def test_config_json_says_what_the_page_needs_and_nothing_secret() -> None:
    settings = Settings.from_env({"RIPOSTE_API_TOKEN": "t" * 32})
    config = page_config(settings)
    assert config == {
        "rasaPort": 5005,
        "socketPath": "/socket.io/",
        "socketUrl": None,
        "quickExitUrl": QUICK_EXIT_DEFAULT_URL,
        "maxMessageChars": MAX_MESSAGE_CHARS,
        "maxUploadBytes": 10 * 1024 * 1024,
    }


@pytest.mark.parametrize("name", ["RIPOSTE_SOCKET_URL", "RIPOSTE_QUICK_EXIT_URL"])
@pytest.mark.parametrize("value", ["javascript:alert(1)", "ftp://x", "https://a b", "meteo.fr"])
def test_bad_page_urls_give_a_clear_french_error(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"{name} doit être une adresse"):
        Settings.from_env({name: value})


def test_quick_exit_url_is_configurable() -> None:
    url = "https://www.lemonde.fr/meteo/"
    assert Settings.from_env({"RIPOSTE_QUICK_EXIT_URL": url}).quick_exit_url == url


def test_the_vendored_socketio_client_is_the_recorded_one() -> None:
    readme = (WEB_DIR / "vendor" / "README").read_text(encoding="utf-8")
    recorded = re.search(r"^sha256 ([0-9a-f]{64})$", readme, re.M)
    assert recorded, readme
    data = (WEB_DIR / "vendor" / "socket.io.min.js").read_bytes()
    assert hashlib.sha256(data).hexdigest() == recorded.group(1)
    page = (WEB_DIR / "index.html").read_text(encoding="utf-8")
    # Every script and style of the page is a local file: no CDN, no web font.
    assert re.findall(r'(?:src|href)="(https?:)?//', page) == []
    assert set(re.findall(r'<script src="([^"]+)"', page)) == {
        "vendor/socket.io.min.js",
        "render.js",
        "app.js",
    }


# --------------------------------------------------------------------------- French pages
# The pages as they were written in Python before they moved to riposte/web/messages.yml and
# templates/web/: the server must send them byte for byte.

_UPLOAD_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Riposte — joindre une capture</title></head>
<body><main>
<h1>Joindre la capture d'écran de la pièce n° {number}</h1>
{message}
<form method="post" enctype="multipart/form-data">
<p><label for="fichier">Capture d'écran ou page enregistrée
(image ou PDF, 10 Mo au plus)</label><br>
<input id="fichier" name="fichier" type="file" accept="image/*,application/pdf" required></p>
<p><button type="submit">Envoyer</button></p>
</form>
<p>Le fichier est chiffré dans votre dossier, avec son empreinte SHA-256 qui prouve qu'il n'a
pas été modifié depuis.</p>
</main></body></html>
"""
_DONE_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Riposte — capture enregistrée</title></head>
<body><main><h1>Capture enregistrée</h1>
<p>La pièce n° {number} a maintenant son fichier ({size} octets).</p>
<p>Empreinte SHA-256 : <code>{sha256}</code></p>
<p>Vous pouvez fermer cette page et revenir à la conversation.</p></main></body></html>
"""
_GONE_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Riposte — lien expiré</title></head>
<body><main><p>Ce lien est expiré ou invalide. Ajoutez la preuve à nouveau dans la
conversation (« ajouter une preuve ») pour obtenir un nouveau lien.</p></main></body></html>
"""
_USED_PAGE = (
    '<!doctype html>\n<html lang="fr"><head><meta charset="utf-8"><title>Riposte — lien déjà '
    "utilisé</title></head>\n<body><main><p>Ce lien a déjà servi : la capture de cette pièce "
    "est enregistrée, et un lien ne sert qu&#x27;une fois. Pour joindre une autre capture, "
    "ajoutez une nouvelle preuve dans la conversation (« ajouter une preuve ») : vous recevrez "
    "un nouveau lien.</p></main></body></html>\n"
)
_BUSY = "Le service reçoit trop de demandes en ce moment. Réessayez dans quelques instants."


def test_the_server_pages_and_refusals_are_unchanged() -> None:
    from riposte.web import server

    assert server.BUSY == _BUSY
    assert server.TOO_MANY == (
        "Trop de demandes en peu de temps depuis votre connexion. Réessayez dans quelques "
        "instants."
    )
    assert server.TOO_LARGE == "Ce fichier dépasse 10 Mo : envoyez une capture plus légère."
    busy_page = f"<!doctype html><meta charset=utf-8><title>Service occupé</title><p>{_BUSY}</p>"
    assert server.BUSY_PAGE == busy_page.encode()
    assert server._BUSY_RESPONSE.endswith(b"Connection: close\r\n\r\n" + busy_page.encode())


def test_the_letter_link_page_is_unchanged() -> None:
    from riposte.web.letters import not_found_page

    assert (
        not_found_page()
        == (
            "<!doctype html><meta charset=utf-8><title>Lien expiré</title>"
            "<p>Ce lien de téléchargement est expiré ou invalide. Demandez à nouveau votre "
            "courrier dans la conversation (« rédiger ma plainte »).</p>"
        ).encode()
    )


def test_the_upload_pages_are_unchanged_and_escape_what_they_show() -> None:
    from riposte.web import uploads
    from riposte.web.texts import page

    assert uploads._page(3) == _UPLOAD_PAGE.format(number=3, message="").encode()
    alert = '<p role="alert">Ce fichier n&#x27;est &lt;b&gt; &quot;ni&quot; &amp; y</p>'
    shown = uploads._page(4, 'Ce fichier n\'est <b> "ni" & y')
    assert shown == _UPLOAD_PAGE.format(number=4, message=alert).encode()
    assert uploads._gone_page() == _GONE_PAGE.encode()
    assert uploads._used_page() == _USED_PAGE.encode()
    done = page("upload_done", number=2, size=123, sha256="ab" * 32)
    assert done == _DONE_PAGE.format(number=2, size=123, sha256="ab" * 32).encode()


def test_the_upload_messages_are_unchanged() -> None:
    from riposte.web.texts import message
    from riposte.web.uploads import GONE_MESSAGE, USED_MESSAGE

    assert GONE_MESSAGE == (
        "Ce lien est expiré ou invalide. Ajoutez la preuve à nouveau dans la conversation "
        "(« ajouter une preuve ») pour obtenir un nouveau lien."
    )
    assert USED_MESSAGE.startswith("Ce lien a déjà servi : la capture de cette pièce est ")
    assert message("uploads", "saved", number=2, size=10) == (
        "Capture enregistrée : la pièce n° 2 a maintenant son fichier (10 octets), chiffré, "
        "avec son empreinte SHA-256."
    )
    assert message("uploads", "no_file") == (
        "Aucun fichier reçu : choisissez une capture puis « Envoyer »."
    )
    assert message("uploads", "not_a_picture") == "Ce fichier n'est ni une image ni un PDF."
