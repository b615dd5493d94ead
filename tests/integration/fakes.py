"""The Telegram Bot API and signal-cli-rest-api fakes (tests/channels) on their own event loops,
in threads, for a stack running apart: the shared token stack talks to both."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from tests.channels.fake_bot_api import Call, FakeBotAPI
from tests.channels.fake_signal_api import FakeSignalAPI


class ThreadedTelegram:
    """The fake Bot API on its own event loop, in a thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.api = FakeBotAPI()
        self.url = self._run(self.api.start())

    def _run(self, coroutine: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def wait_for(self, method: str, count: int = 1, timeout: float = 60) -> list[Call]:
        return self._run(self.api.wait_for(method, count, timeout), timeout + 5)  # type: ignore[no-any-return]

    def stop(self) -> None:
        self._run(self.api.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)


class ThreadedSignal:
    """The fake signal-cli-rest-api on its own event loop, in a thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.api = self.run(self._make())
        self.url = self.run(self.api.start())

    @staticmethod
    async def _make() -> FakeSignalAPI:
        return FakeSignalAPI()  # its queue must belong to this loop

    def run(self, coroutine: Any, timeout: float = 90) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def push(self, frame: Any) -> None:
        self.loop.call_soon_threadsafe(self.api.push, frame)

    def stop(self) -> None:
        self.run(self.api.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
