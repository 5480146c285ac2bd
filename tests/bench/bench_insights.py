"""Benchmark: what the live insights and alerts cost per Final.

Run: python tests/bench/bench_insights.py [--finals 4000] [--rounds 5]

A four-hour call (4,000 Finals) of three speakers (overlaps, pauses, long silences now and
then, a sentiment on every Final, some alert phrases said) is fed one Final at a time to
``Insights.add`` and ``AlertWatcher.add`` (the default rules, and twenty rules with patterns),
as a call session does for each Final it receives. Prints the median cost per Final in µs,
the cost of one ``snapshot()`` late in the call (what a window redraws from), and of computing
everything from scratch (an export). Not a test: nothing here is asserted.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from console.acs.streaming import TICKS_PER_SECOND  # noqa: E402
from console.transcript.alerts import AlertRules, AlertWatcher, watch  # noqa: E402
from console.transcript.insights import Insights  # noqa: E402
from console.transcript.timeline import Phrase, PhraseStatus  # noqa: E402

SPEAKERS = ("4:+15550100", "8:acs:bench_agent", "8:orgid:00000000-0000-0000-0000-0000000000aa")
SENTENCES = (
    "Thanks for calling, how can I help you today?",
    "I was charged twice for my plan this month.",
    "Let me check that for you, one moment please.",
    "This is the third time, I want to speak to a supervisor.",
    "I can see the duplicate payment and I will refund it now.",
    "If this is not fixed I will cancel my account.",
    "The refund takes three to five business days.",
    "Okay, thank you, that is really helpful.",
)
SENTIMENTS = ("positive", "negative", "neutral", "mixed")
TWENTY = AlertRules(
    (
        "cancel my account", "complaint", "supervisor", "refund*", "charged twice",
        "re:speak to (a|your) (manager|supervisor)", "lawyer", "unacceptable", "ridiculous",
        "never again", "re:\\b(third|fourth) time\\b", "escalate", "close my account",
        "chargeback", "fraud", "re:cancel(led|ling)? (my|the) (plan|service)", "terrible",
        "waste of time", "re:not (happy|satisfied)", "competitor",
    ),
    3,
)  # fmt: skip


def call(finals: int, seed: int = 7) -> list[Phrase]:
    rng = random.Random(seed)
    out = []
    t = 0.0
    for n in range(finals):
        duration = rng.uniform(1.0, 6.0)
        start = t
        t += duration + (rng.uniform(6, 12) if rng.random() < 0.03 else rng.uniform(-0.8, 1.2))
        out.append(
            Phrase(
                id=n + 1,
                raw_id=SPEAKERS[n % len(SPEAKERS)],
                text=SENTENCES[rng.randrange(len(SENTENCES))],
                status=PhraseStatus.FINAL,
                offset=round(start * TICKS_PER_SECOND),
                duration=round(duration * TICKS_PER_SECOND),
                anchor=0,
                confidence=0.9,
                words=(),
                locale="en-US",
                received_at=start,
                first_received_at=start,
                seq=n + 1,
                sentiment=rng.choice(SENTIMENTS),
            )
        )
    return out


def per_final(make: Callable[[], Callable[[Phrase], object]], phrases: list[Phrase]) -> float:
    add = make()
    started = time.perf_counter()
    for phrase in phrases:
        add(phrase)
    return (time.perf_counter() - started) / len(phrases) * 1e6


def once(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--finals", type=int, default=4_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    phrases = call(args.finals)

    rows: dict[str, list[float]] = {}

    def measure(name: str, value: float) -> None:
        rows.setdefault(name, []).append(value)

    for _ in range(args.rounds):
        measure("Insights.add", per_final(lambda: Insights().add, phrases))
        measure(
            "AlertWatcher.add (3 default rules)", per_final(lambda: AlertWatcher().add, phrases)
        )
        measure("AlertWatcher.add (20 rules)", per_final(lambda: AlertWatcher(TWENTY).add, phrases))

        def both() -> Callable[[Phrase], object]:
            insights, alerts = Insights(), AlertWatcher()

            def add(final: Phrase) -> object:
                insights.add(final)
                return alerts.add(final)

            return add

        measure("both, per Final (what a session does)", per_final(both, phrases))
        live = Insights()
        for phrase in phrases:
            live.add(phrase)
        measure(f"snapshot() after {args.finals:,} Finals", once(live.snapshot))

        def scratch() -> object:
            insights = Insights()
            for phrase in phrases:
                insights.add(phrase)
            return insights.snapshot(), watch(phrases, AlertRules())

        measure(f"from scratch, {args.finals:,} Finals (an export)", once(scratch))

    hours = phrases[-1].end / 3600
    print(f"{args.finals:,} Finals ({hours:.1f} h of call), {args.rounds} rounds, median")
    print(f"{'what':<46} {'µs':>12}")
    for name, values in rows.items():
        unit = "per Final" if "add" in name or "per Final" in name else "once"
        print(f"{name:<46} {statistics.median(values):>12,.2f}  {unit}")


if __name__ == "__main__":
    main()
