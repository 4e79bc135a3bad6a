"""A bot process that only drains the outbox, delivering over HTTP to a recorder (for the kill test).

Run as `python tests/outbox_child.py RECORDER_URL` with DATABASE_PATH, PSEUDONYM_KEY
and BROADCAST_RATE_TELEGRAM in the environment. It never stops by itself: the test
kills it with SIGKILL in the middle of a broadcast, then starts it again.
"""

from __future__ import annotations

import asyncio
import sys

import aiohttp

from bot.app import build_bot
from bot.config import load_settings
from bot.events import Chat, Pacing, Reply, Sent, TransientError


class HttpPlatform:
    """Each delivery is one POST to the recorder: what the recorder got was sent."""

    def __init__(self, session: aiohttp.ClientSession, url: str, rate: float) -> None:
        self.pacing = Pacing(rate)  # BROADCAST_RATE_TELEGRAM, 1 message/s per chat
        self._session = session
        self._url = url
        self._n = 0

    async def deliver(self, chat: Chat, reply: Reply) -> Sent:
        try:
            async with self._session.post(self._url, json={"chat": chat.id, "text": reply.text.plain}) as response:
                if response.status != 200:
                    raise TransientError(f"HTTP {response.status}")
        except aiohttp.ClientError as exc:
            raise TransientError(type(exc).__name__) from None
        self._n += 1
        return Sent(chat, str(self._n))

    async def send(self, chat: Chat, reply: Reply) -> Sent:
        return await self.deliver(chat, reply)

    async def edit(self, sent: Sent, reply: Reply) -> None:
        return None

    async def is_chat_admin(self, chat: Chat, user_id: str) -> bool:
        return False

    def chat_link(self, start: str | None = None) -> str | None:
        return None


async def main(url: str) -> None:
    settings = load_settings(env_file=None)
    bot = await build_bot(settings)
    async with aiohttp.ClientSession() as session:
        bot.services.outbounds["console"] = HttpPlatform(session, url, settings.broadcast_rate_telegram)
        await bot.services.outbox.start()
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
