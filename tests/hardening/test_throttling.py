"""Per-user throttling: one user's flood is cut off while everyone else is served."""

from __future__ import annotations

import limits.aio.storage.memory
import pytest

from tests.conftest import HarnessFactory

NOTICE = "You are sending messages very fast. Please wait a moment."
HELP_START = "📚 Bookbridge searches every library of the alliance at once."


class FakeClock:
    """The wall clock of the throttle's in-memory store, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def time(self) -> float:
        return self.now


async def test_a_flood_from_one_user_does_not_starve_the_others(
    harness_factory: HarnessFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = await harness_factory(throttle_rate=1.0, throttle_burst=5)
    clock = FakeClock()
    # The limits library's memory store reads time.time() through its module's ``time``.
    monkeypatch.setattr(limits.aio.storage.memory, "time", clock)
    flooder = harness.user(7301, "Flood")
    others = [harness.user(7302 + n, f"Calm{n}") for n in range(3)]
    for person in (flooder, *others):
        await person.onboard()
        clock.now += 60  # onboarding taps are not part of the flood

    flood_replies = []
    served = []
    for n in range(60):
        flood_replies += [m.text for m in await flooder.send("/help")]
        clock.now += 0.05  # 20 updates a second
        if n % 20 == 10:
            for person in others:
                served += [m.text or "" for m in await person.send("/help")]
    answered = [text for text in flood_replies if text and text.startswith(HELP_START)]
    # The burst, plus what the rate refills over three seconds; one polite notice, no more.
    assert 5 <= len(answered) <= 5 + 3
    assert flood_replies.count(NOTICE) == 1
    assert len(served) == 3 * 3 and all(text.startswith(HELP_START) for text in served)

    # After a pause the flooder is served again.
    clock.now += 10
    [reply] = await flooder.send("/help")
    assert (reply.text or "").startswith(HELP_START)

    # A later flood gets its own single notice.
    later = []
    for _ in range(30):
        later += [m.text for m in await flooder.send("/help")]
        clock.now += 0.05
    assert later.count(NOTICE) == 1
