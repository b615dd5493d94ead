"""The action server (rasa_sdk) behind a shared secret: `python -m riposte_rasa.action_server`.

rasa_sdk runs whatever action a request names, on the conversation state the request body
carries: anyone who can reach its port could read a case, mint letter links or delete it.
This launcher builds rasa_sdk's own Sanic application (`rasa_sdk.endpoint.create_app`) and adds
one request middleware: every route but `/health` needs `Authorization: Bearer <secret>`, the
secret being RIPOSTE_ACTION_SECRET (at least 16 characters), compared in constant time. Rasa
sends that header from `endpoints.yml` (`action_endpoint.headers`, the same variable).

It listens on 127.0.0.1 unless RIPOSTE_ACTIONS_HOST (or `--host`) says otherwise: a container
whose action server Rasa reaches over the pod or Compose network sets it to 0.0.0.0.
`/health` stays open because it says nothing but « ok » and the deployment probes use it.
`riposte serve` draws a new secret at each start and gives it to Rasa and this server.

The options are rasa_sdk's own (`--actions`, `--port`, `--cors`, TLS, logging), plus `--host`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sanic import Sanic

from riposte.access import (
    DEFAULT_HOST,
    HOST_ENV,
    SECRET_ENV,
    ActionSecretError,
    authorised,
    secret_from_env,
)
from riposte_rasa.messages import message

log = logging.getLogger("riposte_rasa.action_server")

#: The only route answered without the secret (the deployment probes use it).
OPEN_PATHS = frozenset({"/health"})


def create_app(
    secret: str, actions: str = "actions", cors_origins: Any = None, auto_reload: bool = False
) -> Sanic:
    """rasa_sdk's Sanic application, refusing every request without the secret but /health."""
    secret = secret_from_env({SECRET_ENV: secret})  # the same checks as at start-up
    from rasa_sdk.endpoint import create_app as sdk_app
    from sanic import response
    from sanic.request import Request

    app = sdk_app(actions, cors_origins=cors_origins, auto_reload=auto_reload)

    @app.middleware("request")
    async def require_secret(request: Request) -> Any:
        if request.path in OPEN_PATHS:
            return None
        if authorised(request.headers.get("authorization"), secret):
            return None
        # Nothing of the request is logged or read: not its body, not the header it sent.
        log.warning("action server: a request without the right secret was refused")
        return response.json({"error": "unauthorised"}, status=401)

    return app


def argument_parser() -> argparse.ArgumentParser:
    from rasa_sdk.endpoint import create_argument_parser

    parser = create_argument_parser()
    parser.description = message("action_server.description", name=SECRET_ENV)
    parser.add_argument(
        "--host",
        default=None,
        help=message("action_server.host_help", env=HOST_ENV, default=DEFAULT_HOST),
    )
    return parser


def listen_host(option: str | None, env: Mapping[str, str] | None = None) -> str:
    """`--host`, else RIPOSTE_ACTIONS_HOST, else 127.0.0.1 (never SANIC_HOST: Rasa's address)."""
    if option and option.strip():
        return option.strip()
    return (os.environ if env is None else env).get(HOST_ENV, "").strip() or DEFAULT_HOST


def main(argv: list[str] | None = None) -> int:
    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
    from rasa_sdk.endpoint import create_ssl_context
    from rasa_sdk.plugin import plugin_manager

    from riposte.settings import PRIVATE_UMASK

    os.umask(PRIVATE_UMASK)  # owner-only files, as every riposte command (containers too)
    args = argument_parser().parse_args(argv)
    try:
        secret = secret_from_env()
    except ActionSecretError as error:
        print(f"Configuration invalide : {error}", file=sys.stderr)
        return 2
    # As `python -m rasa_sdk` does (rasa_sdk/__main__.py).
    logging.getLogger("matplotlib").setLevel(logging.WARN)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME),
        args.log_file,
        args.loglevel,
        args.logging_config_file,
    )
    utils.update_sanic_log_level()
    app = create_app(
        secret, args.actions or "actions", cors_origins=args.cors, auto_reload=args.auto_reload
    )
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    ssl_context = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    host = listen_host(args.host)
    log.info("action server on %s:%d (secret required)", host, args.port)
    app.run(host, args.port, ssl=ssl_context, workers=utils.number_of_sanic_workers())
    return 0


if __name__ == "__main__":
    sys.exit(main())
