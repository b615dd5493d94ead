"""Rasa's server started the Riposte way: `python -m riposte_rasa.server run <rasa run flags>`.

Three differences with `python -m rasa run`, all about Rasa's HTTP API (`/conversations/…`,
`/model…`), which stays off unless `RIPOSTE_API_TOKEN` is set:

* The token is read from the environment (`RIPOSTE_API_TOKEN`, then removed from it), never
  from the command line: a command line is readable by every local user (`ps`, /proc).
* The token is compared in constant time (`hmac.compare_digest`); Rasa 3.6 compares it with
  `==`, which can leak it byte by byte through response times.
* Besides Rasa's `?token=…` (kept for existing integrations, but written into proxy and
  server logs), the token is accepted in a header, `Authorization: Bearer <token>`, which
  logs do not keep. When a JWT secret is configured (`--jwt-secret`), that header belongs to
  Rasa's JWT check, as documented by Rasa.

Everything else is Rasa's own `rasa run` (same flags, same behaviour).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from functools import wraps
from inspect import isawaitable
from typing import Any

from riposte.access import TOKEN_ENV, token_matches

_PATCHED = "_riposte_constant_time"


def provided_token(request: Any) -> str | None:
    """The token a request carries: `Authorization: Bearer …`, else Rasa's `?token=`."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip() and not request.app.config.get("USE_JWT"):
        return value.strip()
    token = request.args.get("token", None)
    return token if isinstance(token, str) else None


def install() -> None:
    """Replace `rasa.server.requires_auth` (before Rasa builds its app) by the check above."""
    import rasa.server

    original = rasa.server.requires_auth
    if getattr(original, _PATCHED, False):
        return

    def requires_auth(app: Any, token: str | None = None) -> Callable[[Any], Any]:
        # Rasa's own decorator without a token: its JWT check, or no check at all when
        # neither a token nor a JWT secret is configured (Rasa's behaviour).
        jwt_or_open = original(app, None)

        def decorator(f: Any) -> Any:
            fallback = jwt_or_open(f)
            if token is None:
                return fallback

            @wraps(f)
            async def decorated(request: Any, *args: Any, **kwargs: Any) -> Any:
                if token_matches(provided_token(request), token):
                    result = f(request, *args, **kwargs)
                    return await result if isawaitable(result) else result
                if app.config.get("USE_JWT"):
                    return await fallback(request, *args, **kwargs)
                raise _unauthenticated()

            return decorated

        return decorator

    setattr(requires_auth, _PATCHED, True)
    rasa.server.requires_auth = requires_auth


def _unauthenticated() -> Exception:
    from http import HTTPStatus

    from rasa.server import ErrorResponse

    return ErrorResponse(HTTPStatus.UNAUTHORIZED, "NotAuthenticated", "User is not authenticated.")


def rasa_arguments(argv: list[str], environ: dict[str, str] | os._Environ[str]) -> list[str]:
    """Rasa's arguments: `argv`, plus the API flags when the environment holds a token.

    The token is removed from `environ` (children of Rasa never see it).
    """
    token = environ.pop(TOKEN_ENV, "")
    if not token:
        return list(argv)
    return [*argv, "--enable-api", "--auth-token", token]


def main(argv: list[str] | None = None) -> None:
    install()
    arguments = rasa_arguments(list(sys.argv[1:] if argv is None else argv), os.environ)
    # Rasa parses sys.argv; changing it here leaves the process's command line unchanged.
    sys.argv = ["rasa", *arguments]
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
