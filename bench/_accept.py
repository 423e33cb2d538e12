"""accept-under-load (issue 16 §2): how long an operator waits after pressing Accept while
the group's budget is spent by a storm and busy topics.

`topics` mode, the fake Telegram at real limits (scaled by K). Busy topics: 12 accepted
conversations whose customers write every 15 s (36 posts a minute wanted); a storm: 40 new
customers within the first two minutes (cards, digests and their edits). Every 15 s an
operator presses the oldest Accept button still shown. Measured per press, in unscaled
seconds: press → the topic's first post, its header with the customer's history (the operator
can read the conversation and answer); press → the card's new state. Target: p95 of the
first ≤ 2 × the group's pacing interval (60 s / 20 = 3 s, so 6 s).
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from pathlib import Path
from typing import Any

from bench._harness import TAG, percentile

BUSY_CUSTOMERS = 12
BUSY_INTERVAL = 15.0
STORM_CUSTOMERS = 40
STORM_WITHIN = 120.0
ACCEPT_EVERY = 15.0
DURATION = 180.0
PACING_INTERVAL = 60.0 / 20  # the group's 20 posts a minute
TARGET = 2 * PACING_INTERVAL


async def accept_under_load(options: Any, folder: Path, run_cls: Any) -> dict[str, Any]:
    from bench.relay import _open_conversations, _write_periodically, summary

    rng = random.Random(options.seed)
    async with run_cls(options, folder, accept=True) as run:
        fakes = run.fakes
        fakes.add_customers(BUSY_CUSTOMERS + STORM_CUSTOMERS)
        await run.start_bridge()
        setup = await _open_conversations(run, BUSY_CUSTOMERS)
        await run.operators.stop()  # from now on, Accept is pressed by the schedule below
        run.observer.scan()
        shown_before = len(run.observer.buttons)
        too_many_before = fakes.too_many_requests()
        started = time.monotonic()

        busy = asyncio.create_task(
            _write_periodically(
                run, range(BUSY_CUSTOMERS), BUSY_INTERVAL, DURATION, rng, first_seq=1
            )
        )
        storm = asyncio.create_task(_storm(run, rng))
        presses = await _press_on_schedule(run, started, shown_before)
        sent = await busy
        await storm
        await _wait_answered(run, presses, patience=120.0)
        await run.wait_visible(sent, patience=300)
        run.observer.scan()

        group = fakes.group_chat_id
        records = [
            r
            for r in fakes.telegram._calls
            if r.status == 200 and _int(r.params.get("chat_id")) == group
        ]
        topic_waits, card_waits, steps = [], [], []
        for pressed_at, conversation, card in presses:
            shown = _history_shown(records, pressed_at, conversation)
            if shown is not None:
                topic_waits.append(run.unscaled(shown - pressed_at))
                created = _topic_created(records, pressed_at, shown)
                if created is not None:
                    steps.append(
                        (
                            round(run.unscaled(created - pressed_at), 2),
                            round(run.unscaled(shown - created), 2),
                        )
                    )
            edited = _card_edited(records, pressed_at, card)
            if edited is not None:
                card_waits.append(run.unscaled(edited - pressed_at))
        trace = _slowest_trace(run, presses, topic_waits)
        posts = run.observer.posts_between(started, started + run.scaled(DURATION))
        p95 = percentile(topic_waits, 95)
        too_many = fakes.too_many_requests() - too_many_before
        lost = len(sent) - len([key for key in sent if key in run.observer.visible])
        return {
            "presses": len(presses),
            "topics_shown": len(topic_waits),
            "accept_to_topic_with_history_s": summary(topic_waits),
            "accept_to_card_state_s": summary(card_waits),
            "each_press_to_topic_then_to_history_s": steps,
            "slowest_press_calls": trace,
            "group_posts_per_minute": round(len(posts) / (DURATION / 60), 1),
            "busy_messages": len(sent),
            "busy_lost": lost,
            "too_many_requests": too_many,
            "too_many_by_limit": _counters(fakes),
            "group_429s": _refusals(run),
            "setup": setup,
            "target": f"p95 <= {TARGET:g} s (2 x the group's pacing interval), 0 x 429",
            "met": bool(presses)
            and len(topic_waits) == len(presses)
            and too_many == 0
            and p95 is not None
            and p95 <= TARGET,
        }


async def _storm(run: Any, rng: random.Random) -> None:
    offsets = sorted(
        (rng.uniform(0, STORM_WITHIN), BUSY_CUSTOMERS + i) for i in range(STORM_CUSTOMERS)
    )
    started = time.monotonic()
    for offset, customer in offsets:
        delay = started + run.scaled(offset) - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        run.fakes.say(customer, 0, "I need help")


async def _press_on_schedule(
    run: Any, started: float, shown_before: int
) -> list[tuple[float, int, int]]:
    """Every ACCEPT_EVERY s an operator presses the oldest Accept button the storm showed;
    (pressed at, conversation id, card message id) for each press."""
    fakes = run.fakes
    operators = fakes.operators
    pressed: set[str] = set()
    presses: list[tuple[float, int, int]] = []
    at = ACCEPT_EVERY
    while at < DURATION:
        delay = started + run.scaled(at) - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        at += ACCEPT_EVERY
        run.observer.scan()
        for message_id, data in run.observer.buttons[shown_before:]:
            if data in pressed:
                continue
            pressed.add(data)
            operator = operators[len(presses) % len(operators)]
            try:
                fakes.telegram.press(operator, fakes.group_chat_id, message_id, data)
            except ValueError:  # the button is gone (the card was edited meanwhile)
                continue
            presses.append((time.monotonic(), int(data.split(":", 1)[1]), message_id))
            break
    return presses


async def _wait_answered(run: Any, presses: list[tuple[float, int, int]], patience: float) -> None:
    deadline = time.monotonic() + run.scaled(patience)
    group = run.fakes.group_chat_id
    while time.monotonic() < deadline:
        records = [
            r
            for r in run.fakes.telegram._calls
            if r.status == 200 and _int(r.params.get("chat_id")) == group
        ]
        if all(_history_shown(records, at, conv) is not None for at, conv, _ in presses):
            return
        await asyncio.sleep(run.scaled(1))


def _history_shown(records: list[Any], pressed_at: float, conversation: int) -> float | None:
    """When the conversation's topic showed its header with the customer's history."""
    header = re.compile(rf"· #{conversation}\b")
    for record in records:
        if record.time < pressed_at or record.method != "sendMessage":
            continue
        if record.params.get("message_thread_id") is None:
            continue
        text = str(record.params.get("text") or "")
        if header.search(text) and TAG.search(text):
            return float(record.time)
    return None


def _refusals(run: Any) -> list[str]:
    """Each 429 in the group: its method and the group's posts in the minute before it."""
    from bench._harness import counts_against_group

    group = run.fakes.group_chat_id
    calls = [
        r
        for r in run.fakes.telegram._calls
        if _int(r.params.get("chat_id")) == group and counts_against_group(r.method)
    ]
    out = []
    for refused in (r for r in calls if r.status == 429):
        span = 60.0 / run.k
        before = [
            r for r in calls if r.status == 200 and refused.time - span < r.time <= refused.time
        ]
        out.append(
            f"{refused.method} wall {refused.time + _wall_offset():.3f}: {len(before)} posts in "
            f"the {span:g} s before: {sorted({r.method for r in before})}"
        )
    return out


def _wall_offset() -> float:
    return time.time() - time.monotonic()


def _counters(fakes: Any) -> dict[str, int]:
    c = fakes.telegram.too_many_requests
    return {"chat": c.chat, "group": c.group, "global": c.global_, "forced": c.forced}


def _slowest_trace(
    run: Any, presses: list[tuple[float, int, int]], waits: list[float]
) -> list[str]:
    """Every Bot API call from the slowest press to its history (unscaled offsets): where
    the wait went."""
    if not presses or len(waits) != len(presses):
        return []
    index = max(range(len(waits)), key=waits.__getitem__)
    pressed_at = presses[index][0]
    until = pressed_at + run.scaled(waits[index])
    group = run.fakes.group_chat_id
    out = []
    for r in run.fakes.telegram._calls:
        if pressed_at <= r.time <= until and r.method != "getUpdates":
            where = "group" if _int(r.params.get("chat_id")) == group else "other"
            thread = r.params.get("message_thread_id")
            out.append(
                f"+{run.unscaled(r.time - pressed_at):.2f} {r.method} {where}"
                f"{'/' + str(thread) if thread else ''} {r.status}"
            )
    return out


def _topic_created(records: list[Any], pressed_at: float, shown: float) -> float | None:
    """The last createForumTopic between the press and the history (its topic)."""
    made = [
        float(r.time)
        for r in records
        if r.method == "createForumTopic" and pressed_at <= r.time <= shown
    ]
    return made[-1] if made else None


def _card_edited(records: list[Any], pressed_at: float, card: int) -> float | None:
    for record in records:
        if record.time < pressed_at or not record.method.startswith("edit"):
            continue
        if _int(record.params.get("message_id")) == card:
            return float(record.time)
    return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
