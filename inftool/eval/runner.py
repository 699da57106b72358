"""Many evaluation items at once: bounded concurrency and a progress bar, results in order."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from tqdm import tqdm

Item = TypeVar("Item")
Result = TypeVar("Result")


async def gather_bounded(work: Sequence[Item], run: Callable[[Item], Awaitable[Result]], concurrency: int, desc: str,
                         progress: bool = True) -> list[Result]:  # fmt: skip
    gate = asyncio.Semaphore(concurrency)
    bar = tqdm(total=len(work), unit="item", desc=desc, disable=not progress, dynamic_ncols=True)

    async def one(item: Item) -> Result:
        async with gate:
            result = await run(item)
        bar.update()
        return result

    try:
        return list(await asyncio.gather(*(one(w) for w in work)))
    finally:
        bar.close()
