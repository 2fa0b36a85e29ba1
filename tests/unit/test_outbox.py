"""Outbox: deltas and updates gathered per interval, sent in one order to the right producers."""

from __future__ import annotations

import asyncio

from system.orchestrator import outbox as outbox_module
from system.orchestrator.outbox import DELTA_CHUNK, Outbox
from system.protocol import Message, UpdateConfiguration


class Server:
    """The producer endpoint's send side, recording what would go out."""

    def __init__(self, connected: list[int]) -> None:
        self.connections = {pid: object() for pid in connected}
        self.sent: list[tuple[int, Message]] = []

    async def send(self, producer_id: int, message: Message) -> bool:
        self.sent.append((producer_id, message))
        return True


class Delta:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.takes = 0

    def take(self) -> list[str]:
        self.takes += 1
        items, self.items = self.items, []
        return items


async def settle(server: Server, count: int) -> None:
    for _ in range(400):
        if len(server.sent) >= count:
            return
        await asyncio.sleep(0.01)


def test_a_burst_of_wake_ups_is_one_delta_message_per_producer() -> None:
    async def scenario() -> tuple[Server, Delta]:
        server, delta = Server([1, 2]), Delta()
        box = Outbox(server, delta.take)
        task = asyncio.create_task(box.run())
        for item in ("a", "b", "c"):  # three batches inside one interval
            delta.items.append(item)
            box.wake()
            await asyncio.sleep(0)
        await settle(server, 2)
        await asyncio.sleep(3 * outbox_module.DELTA_INTERVAL_S)  # nothing more goes out
        task.cancel()
        return server, delta

    server, delta = asyncio.run(scenario())
    assert [(pid, m.new_uniques) for pid, m in server.sent] == [
        (1, ["a", "b", "c"]),
        (2, ["a", "b", "c"]),
    ]
    assert delta.takes == 1


def test_delta_first_then_updates_in_queue_order() -> None:
    async def scenario() -> Server:
        server, delta = Server([1, 2, 3]), Delta()
        delta.items = ["x"]
        box = Outbox(server, delta.take)
        box.queue(
            [(2, UpdateConfiguration(partition="A-M")), (3, UpdateConfiguration(partition="N-Z"))]
        )
        box.queue_to_all(UpdateConfiguration(provider_weights={"a": 2.0}))
        await box.push()
        return server

    sent = asyncio.run(scenario()).sent
    assert [(pid, m.new_uniques) for pid, m in sent[:3]] == [(1, ["x"]), (2, ["x"]), (3, ["x"])]
    rest = [(pid, m.partition or m.provider_weights) for pid, m in sent[3:]]
    assert rest == [(2, "A-M"), (3, "N-Z"), (1, {"a": 2.0}), (2, {"a": 2.0}), (3, {"a": 2.0})]
    assert all(isinstance(m.trace_context, dict) for _, m in sent)


def test_a_large_delta_is_chunked() -> None:
    async def scenario() -> Server:
        server, delta = Server([1]), Delta()
        delta.items = [f"item {i}" for i in range(DELTA_CHUNK + 3)]
        await Outbox(server, delta.take).push()
        return server

    sizes = [len(m.new_uniques) for _, m in asyncio.run(scenario()).sent]
    assert sizes == [DELTA_CHUNK, 3]


def test_an_update_queued_for_all_goes_only_to_producers_connected_then() -> None:
    async def scenario() -> Server:
        server, delta = Server([1]), Delta()
        box = Outbox(server, delta.take)
        box.queue_to_all(UpdateConfiguration(provider_weights={"a": 1.0}))
        server.connections[2] = object()  # connects later: its StartTopic has the weights
        await box.push()
        return server

    assert [pid for pid, _ in asyncio.run(scenario()).sent] == [1]
