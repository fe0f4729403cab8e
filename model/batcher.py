"""Micro-batching for a server: concurrent single requests are grouped and run as one batch in a worker thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class _Request(Generic[T, R]):
    item: T
    future: asyncio.Future[R]


class BatcherClosedError(RuntimeError):
    """The batcher was closed before the request could run."""


class MicroBatcher(Generic[T, R]):
    """Groups concurrent requests (at most `max_batch`) into one call of `run_batch`.

    Requests that queue while a batch runs form the next one. Beyond those, a batch waits up to `max_wait` seconds
    for company only while callers are seen to come together (the previous batch held several requests): at low
    load a lone request runs at once instead of paying the wait bound for nobody.

    `run_batch` maps a list of items to a list of results in the same order. It runs in one dedicated worker
    thread, one batch at a time, never on the event loop; requests that arrive while a batch runs form the
    next one. Call `submit` / `submit_many` from coroutines on one event loop, and `aclose` when done.
    If a batch raises, its items are re-run one by one, so that only the caller whose item fails sees the error.
    """

    def __init__(
        self, run_batch: Callable[[list[T]], Sequence[R]], max_batch: int = 32, max_wait: float = 0.005
    ) -> None:
        if max_batch < 1 or max_wait < 0:
            raise ValueError("max_batch must be >= 1 and max_wait >= 0")
        self.run_batch = run_batch
        self.max_batch = max_batch
        self.max_wait = max_wait
        self._queue: asyncio.Queue[_Request[T, R] | None] = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="micro-batch")
        self._worker: asyncio.Task[None] | None = None
        self._closed = False
        self._last_batch_size = 1

    async def submit(self, item: T) -> R:
        """The result of `run_batch` for `item`, computed in a batch with other concurrent requests."""
        if self._closed:
            raise BatcherClosedError("the batcher is closed")
        loop = asyncio.get_running_loop()
        if self._worker is None:
            self._worker = loop.create_task(self._work())
        future: asyncio.Future[R] = loop.create_future()
        self._queue.put_nowait(_Request(item, future))
        return await future

    async def submit_many(self, items: Sequence[T]) -> list[R]:
        """Results for several items, in their order; they may be spread over several batches."""
        return list(await asyncio.gather(*(self.submit(item) for item in items)))

    async def aclose(self) -> None:
        """Refuse new requests, finish the queued ones, then stop the worker thread."""
        if self._closed:
            return
        self._closed = True
        if self._worker is not None:
            self._queue.put_nowait(None)
            await self._worker
        self._executor.shutdown(wait=True)

    async def _work(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                return
            batch, stopping = await self._collect(first)
            self._last_batch_size = len(batch)
            await self._run([request for request in batch if not request.future.done()])

    async def _collect(self, first: _Request[T, R]) -> tuple[list[_Request[T, R]], bool]:
        """The first request plus those queued (and, after a batch of several, those arriving within `max_wait`), up
        to `max_batch`; and whether to stop after."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (self.max_wait if self._last_batch_size > 1 else 0.0)
        batch = [first]
        while len(batch) < self.max_batch:
            try:
                request = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    request = await asyncio.wait_for(self._queue.get(), remaining)
                except TimeoutError:
                    break
            if request is None:
                return batch, True
            batch.append(request)
        return batch, False

    async def _run(self, batch: list[_Request[T, R]]) -> None:
        if not batch:
            return
        loop = asyncio.get_running_loop()
        try:
            results = await loop.run_in_executor(self._executor, self._call, [r.item for r in batch])
        except Exception as exc:
            if len(batch) > 1:
                for request in batch:
                    await self._run([request])
            elif not batch[0].future.done():
                batch[0].future.set_exception(exc)
            return
        for request, result in zip(batch, results, strict=True):
            if not request.future.done():  # done: the caller was cancelled
                request.future.set_result(result)

    def _call(self, items: list[T]) -> list[R]:
        results = list(self.run_batch(items))
        if len(results) != len(items):
            raise ValueError(f"run_batch returned {len(results)} results for {len(items)} items")
        return results
