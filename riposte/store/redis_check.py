"""Redis as seen by the launcher and the lock store, without importing Rasa."""

from __future__ import annotations

import re


def redacted(url: str) -> str:
    """`url` without its password, for logs."""
    return re.sub(r"(://[^:@/]*:)[^@/]*@", r"\1***@", url)


def redis_problem(url: str, socket_timeout: float = 10.0) -> str | None:
    """None when Redis answers a PING at `url`, else the cause in one line."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=socket_timeout, socket_connect_timeout=5)
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        text = str(error).strip()
        return text.splitlines()[0].rstrip(".") if text else repr(error)
    finally:
        client.close()
    return None
