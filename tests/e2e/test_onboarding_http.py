"""Onboarding end to end over HTTP: the control API drives a user, the bot polls the sandbox."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.models import Reader
from tests.e2e.conftest import LiveBot
from tests.factories import make_district


async def test_onboarding_over_http(
    live_bot: LiveBot, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker() as session:
        district = await make_district(session, name="芝山区", name_en="Zhishan")
        await session.commit()
    control = live_bot.control
    await control.create_user(7001, "Wang", "zh-hans")

    await control.send(7001, text="/start")
    [greeting] = await control.bot_texts(7001)
    assert greeting.startswith("欢迎使用书桥，Wang！")

    await control.press(7001, "中文")
    await control.press(7001, "芝山区")
    texts = await control.bot_texts(7001)
    assert texts[0] == "所在区：芝山区"
    assert texts[1].startswith("要分享您的位置吗？")

    await control.send(7001, location={"latitude": 37.5204, "longitude": 121.3911})
    texts = await control.bot_texts(7001)
    assert texts[-2] == "谢谢！已保存您的位置（精确到约 100 米）。"
    assert texts[-1].startswith("设置完成！")
    last = (await control.messages(7001))[-1]
    assert last["reply_markup"]["keyboard"][0][0]["text"] == "🔍 检索"

    async with sessionmaker() as session:
        reader = await session.scalar(select(Reader).where(Reader.telegram_id == 7001))
        assert reader is not None
        assert reader.language == "zh" and reader.district_id == district.id
        assert (reader.latitude, reader.longitude) == (37.52, 121.391)
        assert reader.onboarded_at is not None

    # Start-up registered the readers' command menu through the HTTP Bot API.
    requests = {r.method for r in live_bot.sandbox.requests}
    assert {"getMe", "setMyCommands", "getUpdates", "editMessageText"} <= requests
