"""Names and titles as each reader reads them: escaped once in messages, plain on buttons,
the reader's language on buttons, opening hours described as the work card does."""

from __future__ import annotations

from sqlalchemy import update

from bot.models import Library, Work
from tests.conftest import HarnessFactory
from tests.harness import BotHarness, inline_labels

from .chat import alliance_in, chat_reader, deliver, holds_of, open_card, reserve_at
from .conftest import Alliance


async def _rename(harness: BotHarness, library_id: int, name: str, name_en: str) -> None:
    async with harness.app.sessionmaker() as session:
        await session.execute(
            update(Library).where(Library.id == library_id).values(name=name, name_en=name_en)
        )
        await session.commit()


async def test_pickup_buttons_show_names_unescaped(harness: BotHarness) -> None:
    alliance = await alliance_in(harness)  # the copy is at Campus
    await _rename(harness, alliance.campus.id, "海滨少儿图书馆", "Haibin Children's Library")
    reader = await chat_reader(harness, 901)
    await open_card(reader, alliance.work.id)
    await reader.tap("🔖 Reserve")
    labels = inline_labels(reader.last_bot_message())
    # The button said "Haibin Children&#x27;s Library": escaped for HTML, shown as text.
    assert "Haibin Children's Library · on the shelf" in labels
    assert not any("&" in label for label in labels)
    await reader.tap("Haibin Children's Library · on the shelf")
    assert "on the shelf at Haibin Children's Library" in (reader.last_bot_message().text or "")
    # The alert of "On my way" is plain text too.
    [ready] = await holds_of(harness, alliance.work.id)
    await reader.forge(f"hd:way:{ready.id}")
    assert reader.last_answer is not None
    assert reader.last_answer["text"].startswith("See you at Haibin Children's Library!")

    # Queued behind them, another reader can move their hold: the choices are plain too.
    other = await chat_reader(harness, 902)
    text = await reserve_at(other, alliance.work.id, "Haibin Children's Library")
    assert "to pick up at Haibin Children's Library" in text
    [_ready, queued] = await holds_of(harness, alliance.work.id)
    await other.forge(f"hd:open:{queued.id}")
    assert "Pickup: Haibin Children's Library" in (other.last_bot_message().text or "")
    await _rename(harness, alliance.riverside.id, "河畔<书屋>", "Riverside <Books> & Co")
    await other.tap("📍 Change pickup library")
    labels = inline_labels(other.last_bot_message())
    assert any(label.startswith("Riverside <Books> & Co · ") for label in labels)


async def _with_original_title(harness: BotHarness, alliance: Alliance) -> None:
    async with harness.app.sessionmaker() as session:
        await session.execute(
            update(Work)
            .where(Work.id == alliance.work.id)
            .values(title="Hong lou meng", original_title="红楼梦")
        )
        await session.commit()


async def test_my_holds_buttons_show_the_title_in_the_readers_language(
    harness: BotHarness,
) -> None:
    alliance = await alliance_in(harness)
    await _with_original_title(harness, alliance)
    chinese = await chat_reader(harness, 911, language="zh")
    english = await chat_reader(harness, 912)
    for reader in (chinese, english):
        await reader.forge(f"rsvp:{alliance.work.id}:{alliance.campus.id}")
    [overview] = await chinese.send("/holds")
    # The Chinese reader's button showed the romanised "Hong lou meng".
    assert inline_labels(overview) == ["1. 管理：红楼梦"]
    assert "<b>" not in (overview.text or "") and "红楼梦 · Hong lou meng" in (overview.text or "")
    [overview] = await english.send("/holds")
    assert inline_labels(overview) == ["1. Manage: Hong lou meng"]


async def test_ready_notice_describes_opening_hours_as_the_work_card_does(
    harness_factory: HarnessFactory,
) -> None:
    harness = await harness_factory(hold_ready_digest_minutes=0)
    alliance = await alliance_in(harness)  # Riverside opens "Tu-Su 10:00-18:00"
    async with harness.app.sessionmaker() as session:
        from tests.factories import make_work

        # A copy for each of the two readers.
        work = await make_work(
            session, title="Water Margin", libraries=(alliance.riverside, alliance.riverside)
        )
        await session.commit()
    for user_id, language, hours in (
        (921, "zh", "🕘 周二至周日 10:00-18:00"),
        (922, "en", "🕘 Tue–Sun 10:00–18:00"),
    ):
        reader = await chat_reader(harness, user_id, language=language)
        await reader.send(f"/start wk_{work.id}")
        assert hours in (reader.last_bot_message().text or "")
        await reader.forge(f"rsvp:{work.id}:{alliance.riverside.id}")
        await deliver(harness)
        ready = [m for m in reader.new_bot_messages() if m.text and m.text.startswith("📗")]
        assert len(ready) == 1 and hours in (ready[0].text or ""), ready
