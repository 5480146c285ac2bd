"""Benchmark: the redaction engine on the labelled corpus.

Run: python tests/bench/bench_redaction.py [--corpus FILE ...] [--show-errors] [--repeat N]

Prints precision and recall per entity type and overall, and the time per utterance (µs).
A gold entity is found when a predicted span of the same type overlaps it; a predicted span
that overlaps no gold span of its type is a false positive. Also printed: how many gold
entities are wholly masked (every letter and digit inside some mask, of whatever type), which
is what a reader of the redacted text sees. Several ``--corpus`` files are scored as one.
Not a test: the goals are asserted by tests/unit/test_redaction_corpus.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from console.acs.streaming import Word  # noqa: E402
from console.transcript.redaction import (  # noqa: E402
    ENTITY_TYPES,
    Entity,
    find_entities,
    redact_text,
    redact_words,
)

CORPUS = ROOT / "tests" / "fixtures" / "redaction" / "corpus.jsonl"


@dataclass(frozen=True, slots=True)
class Utterance:
    id: str
    form: str
    text: str
    entities: tuple[Entity, ...]
    note: str = ""


@dataclass(slots=True)
class Tally:
    gold: int = 0
    found: int = 0  # gold entities a same-type prediction overlaps
    predicted: int = 0
    correct: int = 0  # predictions that overlap a gold entity of their type

    @property
    def recall(self) -> float:
        return self.found / self.gold if self.gold else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0


@dataclass(slots=True)
class Score:
    by_type: dict[str, Tally] = field(default_factory=lambda: {t: Tally() for t in ENTITY_TYPES})
    overall: Tally = field(default_factory=Tally)
    masked: int = 0  # gold entities with every letter and digit inside some predicted span
    misses: list[tuple[Utterance, Entity]] = field(default_factory=list)
    false_positives: list[tuple[Utterance, Entity]] = field(default_factory=list)


def load_corpus(path: Path = CORPUS) -> list[Utterance]:
    utterances: list[Utterance] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            item = json.loads(line)
            entities = tuple(
                Entity(e["type"], int(e["start"]), int(e["end"])) for e in item.get("entities", ())
            )
            utterances.append(
                Utterance(
                    str(item["id"]), item["form"], item["text"], entities, item.get("note", "")
                )
            )
    return utterances


def _overlaps(a: Entity, b: Entity) -> bool:
    return a.type == b.type and a.start < b.end and b.start < a.end


def score(utterances: Iterable[Utterance], predictions: Sequence[Sequence[Entity]]) -> Score:
    result = Score()
    for utterance, predicted in zip(utterances, predictions, strict=True):
        for gold in utterance.entities:
            tally = result.by_type.setdefault(gold.type, Tally())
            tally.gold += 1
            if any(_overlaps(gold, p) for p in predicted):
                tally.found += 1
            else:
                result.misses.append((utterance, gold))
            inside = [i for i in range(gold.start, gold.end) if utterance.text[i].isalnum()]
            if all(any(p.start <= i < p.end for p in predicted) for i in inside):
                result.masked += 1
        for p in predicted:
            tally = result.by_type.setdefault(p.type, Tally())
            tally.predicted += 1
            if any(_overlaps(p, g) for g in utterance.entities):
                tally.correct += 1
            else:
                result.false_positives.append((utterance, p))
    for tally in result.by_type.values():
        result.overall.gold += tally.gold
        result.overall.found += tally.found
        result.overall.predicted += tally.predicted
        result.overall.correct += tally.correct
    return result


def evaluate(utterances: Sequence[Utterance]) -> Score:
    return score(utterances, [find_entities(u.text) for u in utterances])


def table(result: Score) -> str:
    rows = ["| type | gold | predicted | precision | recall |", "|---|---:|---:|---:|---:|"]
    for name, t in [*result.by_type.items(), ("overall", result.overall)]:
        rows.append(f"| {name} | {t.gold} | {t.predicted} | {t.precision:.3f} | {t.recall:.3f} |")
    return "\n".join(rows)


def _best(run: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return best


def timings(utterances: Sequence[Utterance], repeat: int) -> dict[str, float]:
    """Microseconds per utterance for each entry point, best of ``repeat`` passes."""
    texts = [u.text for u in utterances]
    # Words as the service sends them: one per token, 0.4 s each.
    phrases = [
        [Word(w, i * 5_000_000, 4_000_000) for i, w in enumerate(text.split())] for text in texts
    ]
    per = 1e6 / len(texts)
    return {
        "find_entities": _best(lambda: [find_entities(t) for t in texts], repeat) * per,
        "redact_text": _best(lambda: [redact_text(t) for t in texts], repeat) * per,
        "redact_words": _best(lambda: [redact_words(w) for w in phrases], repeat) * per,
    }


def _show(kind: str, items: list[tuple[Utterance, Entity]]) -> None:
    print(f"\n{kind} ({len(items)}):")
    for u, e in items:
        print(f"  {u.id} [{u.form}] {e.type} {u.text[e.start : e.end]!r} in {u.text!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", type=Path, action="append", help=f"a labelled corpus (default {CORPUS.name})"
    )
    parser.add_argument("--show-errors", action="store_true", help="list misses and false hits")
    parser.add_argument("--repeat", type=int, default=20, help="timing passes (best is kept)")
    args = parser.parse_args(argv)
    paths: list[Path] = args.corpus or [CORPUS]
    for path in paths:
        if not path.exists():
            print(f"no corpus at {path}", file=sys.stderr)
            return 1
    utterances = [u for path in paths for u in load_corpus(path)]
    forms = {f: sum(u.form == f for u in utterances) for f in ("display", "spoken")}
    entities = sum(len(u.entities) for u in utterances)
    print(
        f"{' + '.join(p.name for p in paths)}: {len(utterances)} utterances "
        f"({forms['display']} display, {forms['spoken']} spoken), {entities} entities\n"
    )
    result = evaluate(utterances)
    print(table(result))
    print(f"\nwholly masked: {result.masked} of {result.overall.gold} entities")
    for form in ("display", "spoken"):
        subset = [u for u in utterances if u.form == form]
        if subset:
            r = evaluate(subset)
            print(f"\n{form}: precision {r.overall.precision:.3f}, recall {r.overall.recall:.3f}")
    print(f"\ntime per utterance (mean over the corpus, best of {args.repeat} passes):")
    for name, us in timings(utterances, args.repeat).items():
        print(f"  {name:14} {us:6.1f} µs")
    # One long text: the time per word must not grow with the length.
    joined = " ".join(u.text for u in utterances)
    for times in (1, 4):
        text = " ".join([joined] * times)
        us = _best(lambda text=text: find_entities(text), 3) * 1e6
        words = len(text.split())
        print(f"  one {words}-word text: {us / 1000:.1f} ms, {us / words:.2f} µs per word")
    if args.show_errors:
        _show("missed", result.misses)
        _show("false positives", result.false_positives)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
