"""The hub's pure parts: which rows are delivered when ids arrive out of order, and what a
stream does with a client that does not read."""

from __future__ import annotations

import asyncio

from orsec.live.backends.polling import PollingBackend
from orsec.live.channels import Grant, OutboxRow, add_channel, matching_topics
from orsec.live.hub import GAP_WAIT_SECONDS, LATE_WINDOW_SECONDS, Hub, Stream, _State, settle
from orsec.live.protocol import MAX_QUEUED_MESSAGES, SSEMessage, encode_message


def row(i: int) -> OutboxRow:
    return OutboxRow(id=i, topic="event:1", kind="journal.entry", mode="real", payload={})


def test_rows_in_order_are_delivered_and_the_mark_advances():
    state, deliver, late = settle(_State(10, {}, {}), [row(11), row(12)], now=100.0)
    assert [r.id for r in deliver] == [11, 12]
    assert state.safe_upto == 12
    assert late == []


def test_a_missing_id_holds_back_later_rows_until_it_commits():
    # row 11 is still being committed while 12 is visible
    state, deliver, _ = settle(_State(10, {}, {}), [row(12)], now=100.0)
    assert deliver == []
    assert state.safe_upto == 10
    assert 11 in state.gaps
    # 11 commits a moment later: both go, in order
    state, deliver, _ = settle(state, [row(11), row(12)], now=100.5)
    assert [r.id for r in deliver] == [11, 12]
    assert state.safe_upto == 12
    assert state.gaps == {}


def test_a_rolled_back_id_is_skipped_after_the_wait_and_delivered_if_it_commits_late():
    state, deliver, _ = settle(_State(10, {}, {}), [row(12)], now=100.0)
    state, deliver, _ = settle(state, [row(12)], now=100.0 + GAP_WAIT_SECONDS + 0.1)
    assert [r.id for r in deliver] == [12]
    assert 11 in state.late
    # it commits after all (a very long transaction): delivered late, once
    state, deliver, late = settle(state, [row(11)], now=110.0)
    assert deliver == []
    assert [r.id for r in late] == [11]
    assert 11 not in state.late
    # forgotten after the late window
    state2, _, _ = settle(_State(12, {}, {13: 0.0}), [], now=LATE_WINDOW_SECONDS + 1)
    assert state2.late == {}


def test_watch_topics_reach_every_ancestor_watch_room():
    assert matching_topics("watch:FR/OUEST/R24/D37") == [
        "watch:FR/OUEST/R24/D37",
        "watch:FR/OUEST/R24",
        "watch:FR/OUEST",
        "watch:FR",
    ]
    assert matching_topics("event:4") == ["event:4"]


def test_a_client_that_does_not_read_is_dropped_with_a_reload():
    async def scenario() -> Stream:
        stream = Stream(
            grant=Grant(channel="c", user_id=1, session_key="s", topics=("event:1",), audience=1),
            last_id=0,
        )
        stream.ready = True
        for i in range(1, MAX_QUEUED_MESSAGES + 5):
            stream.offer(SSEMessage(id=i, event="swap", data="{}"))
        return stream

    stream = asyncio.run(scenario())
    assert stream.closed
    assert stream.end_reason == "slow_consumer"
    queued = [stream.queue.get_nowait() for _ in range(stream.queue.qsize())]
    assert queued[0] == encode_message(None, "reload", '{"reason": "slow_consumer"}')
    assert len(queued) == 2  # the reload, then the end of the response: nothing else is kept


def test_a_stream_never_receives_an_id_it_already_reflects():
    async def scenario() -> list[bytes]:
        stream = Stream(
            grant=Grant(channel="c", user_id=1, session_key="s", topics=("event:1",), audience=1),
            last_id=5,
        )
        stream.ready = True
        for i in (4, 5, 6, 6, 7):
            stream.offer(SSEMessage(id=i, event="swap", data=str(i)))
        return [stream.queue.get_nowait() for _ in range(stream.queue.qsize())]

    sent = asyncio.run(scenario())
    assert [s.split(b"\n")[0] for s in sent] == [b"id: 6", b"id: 7"]


class _EchoChannel:
    """Renders the ids of the rows it was given (no database)."""

    name = "test-echo"

    def authorize(self, request: object, rest: str) -> Grant:
        raise NotImplementedError

    def render(self, grant: Grant, rows: list[OutboxRow]) -> list[SSEMessage]:
        return [SSEMessage(id=rows[-1].id, event="swap", data=",".join(str(r.id) for r in rows))]


def test_a_stream_that_replayed_a_row_never_gets_it_again_in_a_batch():
    add_channel(_EchoChannel())

    async def scenario() -> tuple[list[bytes], list[bytes]]:
        hub = Hub(PollingBackend(), asyncio.get_running_loop())
        grant = Grant(
            channel="test-echo", user_id=1, session_key="s", topics=("event:1",), audience=1
        )
        behind = Stream(grant=grant, last_id=15)  # same audience, reflects up to 15
        replayed = Stream(grant=grant, last_id=17)  # just replayed row 17
        for stream in (behind, replayed):
            stream.ready = True
            hub.attach(stream)
        await hub._dispatch([row(17), row(19)], [])
        hub.executor.shutdown(wait=False)
        drain = lambda s: [s.queue.get_nowait() for _ in range(s.queue.qsize())]  # noqa: E731
        return drain(behind), drain(replayed)

    behind, replayed = asyncio.run(scenario())
    assert behind == [encode_message(19, "swap", "17,19")]
    assert replayed == [encode_message(19, "swap", "19")]
