"""Rasa input channels of Riposte: the built-in ones, with channel user ids pseudonymised.

Every channel hands Rasa a pseudonym (`riposte.privacy.pseudonymise`, a keyed HMAC) instead
of the id it receives, so that the tracker store never holds a phone number, a Telegram id
or a browser session id in clear. Configured in `credentials.yml` by class path.
"""
