"""The micro-batcher: batching, result order, error routing, cancellation, shutdown, and a free event loop."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from model.batcher import BatcherClosedError, MicroBatcher


def run(coroutine: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(asyncio.wait_for(coroutine(), timeout=20))


class Recorder:
    """A batch function that squares numbers, records each batch and its thread, and can be slow."""

    def __init__(self, delay: float = 0.0) -> None:
        self.batches: list[list[int]] = []
        self.threads: set[int] = set()
        self.delay = delay

    def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        self.threads.add(threading.get_ident())
        time.sleep(self.delay)
        return [item * item for item in items]


def test_concurrent_requests_are_batched_and_each_caller_gets_its_own_result() -> None:
    recorder = Recorder(delay=0.02)

    async def scenario() -> None:
        batcher = MicroBatcher(recorder, max_batch=8, max_wait=0.01)
        results = await asyncio.gather(*(batcher.submit(n) for n in range(50)))
        await batcher.aclose()
        assert results == [n * n for n in range(50)]

    run(scenario)
    assert sorted(n for batch in recorder.batches for n in batch) == list(range(50))
    assert all(1 <= len(batch) <= 8 for batch in recorder.batches)
    assert len(recorder.batches) <= 10  # 50 concurrent requests in batches of up to 8, not one call each
    assert threading.get_ident() not in recorder.threads and len(recorder.threads) == 1


def test_submit_many_keeps_the_order_of_its_items() -> None:
    recorder = Recorder()

    async def scenario() -> None:
        batcher = MicroBatcher(recorder, max_batch=3, max_wait=0.001)
        assert await batcher.submit_many([5, 1, 4, 2, 3, 9, 7]) == [25, 1, 16, 4, 9, 81, 49]
        assert await batcher.submit_many([]) == []
        await batcher.aclose()

    run(scenario)
    assert [len(batch) for batch in recorder.batches] == [3, 3, 1]


def test_requests_wait_for_company_only_while_callers_come_together() -> None:
    recorder = Recorder()
    waits: dict[int, float] = {}

    async def timed(batcher: MicroBatcher[int, int], item: int) -> int:
        started = time.perf_counter()
        result = await batcher.submit(item)
        waits[item] = time.perf_counter() - started
        return result

    async def scenario() -> None:
        batcher = MicroBatcher(recorder, max_batch=32, max_wait=0.2)
        assert await asyncio.gather(timed(batcher, 2), timed(batcher, 3)) == [4, 9]  # queued together
        first = asyncio.create_task(timed(batcher, 4))  # callers come together: the batch waits for company
        await asyncio.sleep(0.01)
        second = asyncio.create_task(timed(batcher, 5))
        assert await first == 16 and await second == 25
        assert await timed(batcher, 6) == 36  # after a batch of two: waits the whole bound, nobody comes
        assert await timed(batcher, 7) == 49  # after a lone request: runs at once
        await batcher.aclose()

    run(scenario)
    assert recorder.batches == [[2, 3], [4, 5], [6], [7]]
    assert 0.15 < waits[6] < 1.0
    assert waits[7] < 0.1


def test_an_error_reaches_only_the_caller_whose_item_failed() -> None:
    def fragile(items: list[int]) -> list[int]:
        if any(item < 0 for item in items):
            bad = next(item for item in items if item < 0)
            raise ValueError(f"negative: {bad}")
        return [item + 1 for item in items]

    async def scenario() -> None:
        batcher = MicroBatcher(fragile, max_batch=8, max_wait=0.01)
        results = await asyncio.gather(*(batcher.submit(n) for n in (1, -5, 2, -7, 3)), return_exceptions=True)
        assert results[0::2] == [2, 3, 4]
        assert [str(error) for error in results[1::2]] == ["negative: -5", "negative: -7"]
        assert await batcher.submit(10) == 11  # the worker survives
        await batcher.aclose()

    run(scenario)


def test_a_batch_function_returning_the_wrong_number_of_results_fails_its_callers() -> None:
    async def scenario() -> None:
        batcher: MicroBatcher[int, int] = MicroBatcher(lambda items: [], max_batch=4, max_wait=0.001)
        with pytest.raises(ValueError, match="0 results for 1 items"):
            await batcher.submit(1)
        await batcher.aclose()

    run(scenario)


def test_the_event_loop_keeps_running_while_a_batch_computes() -> None:
    recorder = Recorder(delay=0.3)

    async def scenario() -> None:
        batcher = MicroBatcher(recorder, max_batch=4, max_wait=0.001)
        ticks: list[float] = []

        async def ticker() -> None:
            while True:
                ticks.append(time.perf_counter())
                await asyncio.sleep(0.01)

        ticking = asyncio.create_task(ticker())
        assert await batcher.submit(3) == 9
        ticking.cancel()
        await batcher.aclose()
        gaps = [later - earlier for earlier, later in itertools.pairwise(ticks)]
        assert len(ticks) >= 10 and max(gaps) < 0.15

    run(scenario)


def test_a_cancelled_caller_is_skipped_and_others_are_served() -> None:
    recorder = Recorder(delay=0.1)

    async def scenario() -> None:
        batcher = MicroBatcher(recorder, max_batch=1, max_wait=0.0)
        busy = asyncio.create_task(batcher.submit(1))
        await asyncio.sleep(0.02)  # the worker is computing [1]
        gone = asyncio.create_task(batcher.submit(2))
        kept = asyncio.create_task(batcher.submit(3))
        await asyncio.sleep(0.01)
        gone.cancel()
        assert await busy == 1 and await kept == 9
        with pytest.raises(asyncio.CancelledError):
            await gone
        await batcher.aclose()

    run(scenario)
    assert recorder.batches == [[1], [3]]


def test_close_finishes_queued_requests_then_refuses_new_ones() -> None:
    recorder = Recorder(delay=0.05)

    async def scenario() -> None:
        batcher = MicroBatcher(recorder, max_batch=2, max_wait=0.001)
        pending = [asyncio.create_task(batcher.submit(n)) for n in range(5)]
        await asyncio.sleep(0)
        await batcher.aclose()
        assert [task.result() for task in pending] == [0, 1, 4, 9, 16]
        with pytest.raises(BatcherClosedError):
            await batcher.submit(1)

    run(scenario)


def test_invalid_bounds_are_refused() -> None:
    with pytest.raises(ValueError):
        MicroBatcher(Recorder(), max_batch=0)
    with pytest.raises(ValueError):
        MicroBatcher(Recorder(), max_wait=-1.0)
