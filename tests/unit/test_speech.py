"""The speech engine: scenario -> TranscriptionData packets on the call clock."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from console.acs.streaming import (
    TICKS_PER_SECOND,
    ResultStatus,
    TranscriptionData,
    parse_packet,
)
from console.emulator.scenario import Scenario, load_scenario, parse_scenario
from console.emulator.speech import FINAL_LATENCY, Conversation

AGENT = "8:acs:res_agent"
CALLER = "4:+15550100100"
TEAMS = "8:orgid:0b1c2d3e-4f5a-6b7c-8d9e-0f1a2b3c4d5e"

WIRE_KEYS_FINAL = [
    "text", "format", "confidence", "offset", "duration", "words", "participantRawID",
    "resultStatus",
]  # fmt: skip
WIRE_KEYS_INTERMEDIATE = [
    "text",
    "format",
    "offset",
    "duration",
    "participantRawID",
    "resultStatus",
]


def _scenario(utterances: list[dict[str, Any]], **options: Any) -> Scenario:
    return parse_scenario(
        {
            "format": 1,
            "default_locale": "en-US",
            "options": {"revision_rate": 0, **options},
            "participants": [{"raw_id": AGENT}, {"raw_id": CALLER}, {"raw_id": TEAMS}],
            "utterances": utterances,
        }
    )


DIALOGUE = [
    {
        "speaker": AGENT,
        "start": 0.5,
        "confidence": 0.94,
        "text": {
            "en-US": "Good morning, how can I help you today?",
            "es-ES": "Buenos días, ¿en qué puedo ayudarle hoy?",
            "fr-FR": "Bonjour, comment puis-je vous aider aujourd'hui ?",
        },
    },
    {
        "speaker": CALLER,
        "gap": 0.4,
        "confidence": 0.8,
        "text": {
            "en-US": "My internet stopped working last night.",
            "es-ES": "Mi internet dejó de funcionar anoche.",
            "fr-FR": "Mon internet ne fonctionne plus depuis hier soir.",
        },
    },
    {
        "speaker": AGENT,
        "gap": 0.4,
        "confidence": 0.9,
        "text": {
            "en-US": "Let me check your line for you.",
            "es-ES": "Déjeme revisar su línea.",
            "fr-FR": "Je vérifie votre ligne.",
        },
    },
]


class Recorder:
    """A send() that records packets with the call time they were sent at, and can fail."""

    def __init__(self, conversation: Conversation, fail_on: set[int] | None = None) -> None:
        self.conversation = conversation
        self.sent: list[tuple[float, dict[str, Any]]] = []
        self.calls = 0
        self.fail_on = fail_on or set()
        self.failed: list[dict[str, Any]] = []

    async def __call__(self, packet: dict[str, Any]) -> None:
        self.calls += 1
        if self.calls in self.fail_on:
            self.failed.append(packet)
            raise ConnectionError("socket closed")
        self.sent.append((self.conversation.call_time, packet))

    @property
    def packets(self) -> list[dict[str, Any]]:
        return [p for _, p in self.sent]

    @property
    def parsed(self) -> list[TranscriptionData]:
        out = []
        for p in self.packets:
            parsed = parse_packet(json.dumps(p))
            assert isinstance(parsed, TranscriptionData), parsed
            out.append(parsed)
        return out

    @property
    def finals(self) -> list[TranscriptionData]:
        return [p for p in self.parsed if p.is_final]


async def _play(scenario: Scenario, *, speed: float = 100, seed: int = 0, locale: str = "en-US"):
    conv = Conversation(scenario, speed=speed, seed=seed)
    rec = Recorder(conv)
    conv.start()
    await asyncio.wait_for(conv.transcription(locale=lambda: locale).run(rec), 10)
    return conv, rec


async def test_a_shipped_scenario_streams_well_formed_packets_in_order() -> None:
    scenario = load_scenario("conference")
    conv, rec = await _play(scenario, speed=400)
    # Sent in call-time order (when they were sent depends on the machine's load, at 400x a
    # stall of 10 ms is 4 s of call time: not a thing to assert on).
    sent_at = [at for at, _ in rec.sent]
    assert sent_at == sorted(sent_at)
    await conv.wait_until(scenario.duration + FINAL_LATENCY)
    assert conv.ended
    parsed = rec.parsed  # asserts every packet parses as TranscriptionData (no Unparsed)
    finals = [p for p in parsed if p.is_final]
    # Every utterance gives exactly one Final with the scripted text and confidence.
    expected = sorted(
        (u.start, u.speaker, u.text["en-US"], u.confidence) for u in scenario.utterances
    )
    got = sorted(
        (f.offset / TICKS_PER_SECOND, f.participant_raw_id, f.text, f.confidence) for f in finals
    )
    assert [g[1:] for g in got] == [e[1:] for e in expected]
    for g, e in zip(got, expected, strict=True):
        assert g[0] == pytest.approx(e[0], abs=1e-6)
    for packet, p in zip(rec.packets, parsed, strict=True):
        body = packet["transcriptionData"]
        assert packet["kind"] == "TranscriptionData"
        assert body["format"] == "display"
        if p.is_final:
            assert list(body) == WIRE_KEYS_FINAL
            assert p.words
            assert 0 < p.confidence <= 1
            # Words sit inside the phrase; the phrase ends where the last word ends.
            assert p.words[0].offset == p.offset
            assert p.words[-1].offset + p.words[-1].duration == p.offset + p.duration
            for a, b in zip(p.words, p.words[1:], strict=False):
                assert a.offset + a.duration <= b.offset
            assert all(w.duration > 0 and w.text == w.text.lower() for w in p.words)
        else:
            assert list(body) == WIRE_KEYS_INTERMEDIATE  # no words, no confidence
            assert p.result_status is ResultStatus.INTERMEDIATE


async def test_intermediates_grow_word_by_word_before_each_final() -> None:
    _, rec = await _play(_scenario(DIALOGUE))
    by_speaker_phrase: dict[tuple[str, int], list[TranscriptionData]] = {}
    for p in rec.parsed:
        by_speaker_phrase.setdefault((p.participant_raw_id, p.offset), []).append(p)
    assert len(by_speaker_phrase) == 3
    for phrase in by_speaker_phrase.values():
        *intermediates, final = phrase
        assert final.is_final
        assert not any(p.is_final for p in intermediates)
        n_words = len(final.words)
        assert [len(p.text.split()) for p in intermediates] == list(range(1, n_words + 1))
        assert intermediates[-1].text == " ".join(w.text for w in final.words)
        durations = [p.duration for p in intermediates]
        assert durations == sorted(durations)


async def test_offsets_are_ticks_of_call_time() -> None:
    speed = 40
    scenario = _scenario(DIALOGUE)
    _, rec = await _play(scenario, speed=speed)
    for sent_at, packet in rec.sent:
        body = packet["transcriptionData"]
        end = (body["offset"] + body["duration"]) / TICKS_PER_SECOND
        assert end <= sent_at + 1e-6  # nothing is transcribed before it is said
        # ... and it is sent promptly (latency plus a generous scheduling allowance).
        assert sent_at - end <= FINAL_LATENCY + 0.05 * speed
    finals = [p for _, p in rec.sent if p["transcriptionData"]["resultStatus"] == "Final"]
    for final, utterance in zip(finals, scenario.utterances, strict=True):
        assert final["transcriptionData"]["offset"] == round(utterance.start * TICKS_PER_SECOND)
        span = utterance.span("en-US") * TICKS_PER_SECOND
        assert 0.85 * span <= final["transcriptionData"]["duration"] <= span


async def test_overlapping_speakers_interleave() -> None:
    scenario = _scenario(
        [
            {
                "speaker": AGENT,
                "start": 0.2,
                "text": "So the plan is to ship the new build on Monday.",
            },
            {"speaker": TEAMS, "gap": -2.5, "text": "Sorry, which Monday?"},
        ]
    )
    _, rec = await _play(scenario)
    speakers = [p.participant_raw_id for p in rec.parsed]
    first_teams = speakers.index(TEAMS)
    assert AGENT in speakers[first_teams:]  # the agent is still talking when Teams cuts in
    # The Teams user's Final comes before the agent's, since the interruption ends first.
    finals = [p.participant_raw_id for p in rec.finals]
    assert finals == [TEAMS, AGENT]


async def test_the_locale_in_force_picks_the_text() -> None:
    conv = Conversation(_scenario(DIALOGUE), speed=50)
    locale = "en-US"
    finals: list[str] = []

    async def send(packet: dict[str, Any]) -> None:
        nonlocal locale
        body = packet["transcriptionData"]
        if body["resultStatus"] == "Final":
            finals.append(body["text"])
            locale = "es-es"  # switched mid-call; the next utterance uses it

    conv.start()
    await asyncio.wait_for(conv.transcription(locale=lambda: locale).run(send), 5)
    assert finals == [
        "Good morning, how can I help you today?",
        "Mi internet dejó de funcionar anoche.",
        "Déjeme revisar su línea.",
    ]


@pytest.mark.parametrize(
    ("locale", "text", "factor"),
    [
        ("fr-FR", "Je vérifie votre ligne.", 1.0),
        ("fr-CA", "Je vérifie votre ligne.", 1.0),  # same language
        ("es-MX", "Déjeme revisar su línea.", 1.0),
        ("de-DE", "Let me check your line for you.", 0.3),  # wrong language: poor result
    ],
)
async def test_locale_fallbacks(locale: str, text: str, factor: float) -> None:
    _, rec = await _play(_scenario(DIALOGUE[2:]), locale=locale, speed=100)
    (final,) = rec.finals
    assert final.text == text
    assert final.confidence == pytest.approx(0.9 * factor, abs=1e-4)


async def test_a_failed_send_is_retried_first_and_no_final_is_lost_or_repeated() -> None:
    scenario = _scenario(DIALOGUE)
    _, reference = await _play(scenario)
    statuses = [p["transcriptionData"]["resultStatus"] for p in reference.packets]
    first_final = statuses.index("Final") + 1
    conv = Conversation(scenario, speed=50)
    # The socket dies on the first Final, and again on an intermediate later on.
    rec = Recorder(conv, fail_on={first_final, first_final + 4})
    feed = conv.transcription(locale=lambda: "en-US")
    conv.start()
    resumed_at = []
    for _ in range(3):
        try:
            await asyncio.wait_for(feed.run(rec), 5)
            break
        except ConnectionError:
            resumed_at.append(len(rec.sent))  # a reconnect runs the same feed again
    assert len(resumed_at) == 2
    # After each reconnect the packet whose send failed goes out first.
    assert [rec.packets[i] for i in resumed_at] == rec.failed
    assert rec.failed[0]["transcriptionData"]["resultStatus"] == "Final"
    assert [f.text for f in rec.finals] == [u.text["en-US"] for u in scenario.utterances]
    assert rec.packets == reference.packets  # nothing lost, nothing repeated
    assert feed.finished
    assert feed.finals_sent == 3


async def test_cancel_and_resume_across_a_reconnect_loses_and_repeats_no_final() -> None:
    scenario = _scenario(DIALOGUE)
    conv = Conversation(scenario, speed=20)
    rec = Recorder(conv)
    feed = conv.transcription(locale=lambda: "en-US")
    conv.start()
    # Drop the stream in the middle of the second utterance, reconnect after a while.
    task = asyncio.create_task(feed.run(rec))
    await conv.wait_until(scenario.utterances[1].start + 1.0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    before = len(rec.sent)
    await conv.wait_until(scenario.utterances[2].start + 0.5)
    await asyncio.wait_for(feed.run(rec), 5)
    assert [f.text for f in rec.finals] == [u.text["en-US"] for u in scenario.utterances]
    # The utterance in progress continued where it stopped: no intermediate was repeated.
    resumed = rec.parsed[before:]
    assert resumed[0].participant_raw_id == CALLER
    assert len({(p.offset, p.duration, p.text) for p in rec.parsed}) == len(rec.parsed)


async def test_after_a_long_outage_stale_intermediates_are_skipped_but_the_final_arrives() -> None:
    text = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    scenario = _scenario([{"speaker": AGENT, "start": 0.0, "text": text}])
    conv = Conversation(scenario, speed=10)
    rec = Recorder(conv)
    feed = conv.transcription(locale=lambda: "en-US")
    conv.start()
    task = asyncio.create_task(feed.run(rec))
    await conv.wait_until(1.0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    before = len(rec.sent)
    await asyncio.sleep(0.8)  # 8 s of call time without a stream
    await asyncio.wait_for(feed.run(rec), 5)
    resumed = rec.parsed[before:]
    assert resumed[-1].is_final
    assert resumed[-1].text == text
    assert len(resumed) - 1 < 14 - before  # some outdated hypotheses were never sent
    lengths = [len(p.text.split()) for p in rec.parsed]
    assert lengths == sorted(lengths)


async def test_the_same_seed_gives_the_same_packets() -> None:
    scenario = _scenario(DIALOGUE, revision_rate=1.0)
    _, a = await _play(scenario, seed=7, speed=100)
    _, b = await _play(scenario, seed=7, speed=100)
    _, c = await _play(scenario, seed=8, speed=100)
    assert a.packets == b.packets
    assert a.packets != c.packets
    # The seed moves words about, never the utterance or what is said.
    assert [f.offset for f in a.finals] == [f.offset for f in c.finals]
    assert [f.text for f in a.finals] == [f.text for f in c.finals]


async def test_a_scripted_revision_shows_then_gets_corrected() -> None:
    scenario = _scenario(
        [
            {
                "speaker": CALLER,
                "start": 0.0,
                "text": "My bill is wrong again this month.",
                "revisions": [{"word": "bill", "heard": "build", "lasts": 2}],
            }
        ]
    )
    _, rec = await _play(scenario)
    texts = [p.text for p in rec.parsed]
    assert texts[:7] == [
        "my",
        "my build",
        "my build is",
        "my bill is wrong",  # corrected once two more words were heard
        "my bill is wrong again",
        "my bill is wrong again this",
        "my bill is wrong again this month",
    ]
    assert texts[-1] == "My bill is wrong again this month."


async def test_random_revisions_are_corrected_by_the_final() -> None:
    scenario = _scenario(
        [{"speaker": AGENT, "start": 0.0, "text": "I will send the new card to your address."}],
        revision_rate=1.0,
    )
    _, rec = await _play(scenario)
    *intermediates, final = rec.parsed
    heard = [p.text.split() for p in intermediates]
    truth = [w.text for w in final.words]
    assert any(h != truth[: len(h)] for h in heard)  # something was misheard on the way
    assert final.text == "I will send the new card to your address."


async def test_speech_before_transcription_starts_is_not_transcribed() -> None:
    scenario = _scenario(DIALOGUE)
    conv = Conversation(scenario, speed=50)
    conv.start()
    second = scenario.utterances[1]
    # Transcription starts in the middle of the second utterance.
    await conv.wait_until(second.start + second.span("en-US") / 2)
    rec = Recorder(conv)
    await asyncio.wait_for(conv.transcription(locale=lambda: "en-US").run(rec), 5)
    first, last = rec.finals
    assert first.participant_raw_id == CALLER
    assert first.offset > second.start * TICKS_PER_SECOND  # heard from a later word
    assert first.text[0].isupper()
    assert first.text.endswith(" last night.")
    assert "My internet" not in first.text
    assert last.text == "Let me check your line for you."


async def test_without_intermediate_results_only_finals_are_sent() -> None:
    conv = Conversation(_scenario(DIALOGUE), speed=50)
    rec = Recorder(conv)
    conv.start()
    await conv.transcription(locale=lambda: "en-US", intermediate_results=False).run(rec)
    assert len(rec.parsed) == 3
    assert all(p.is_final for p in rec.parsed)


async def test_scenario_options_add_intermediate_detail_and_word_confidence() -> None:
    scenario = _scenario(
        [
            {
                "speaker": CALLER,
                "start": 0.0,
                "confidence": 0.7,
                "text": "It's four four seven two.",
                "word_confidence": {"seven": 0.31},
            }
        ],
        intermediate_detail=True,
    )
    _, rec = await _play(scenario)
    *intermediates, _final = rec.parsed
    for p in intermediates:
        assert p.confidence is not None
        assert len(p.words) == len(p.text.split())
    body = rec.packets[-1]["transcriptionData"]
    assert [(w["text"], w["confidence"]) for w in body["words"]] == [
        ("it's", 0.7),
        ("four", 0.7),
        ("four", 0.7),
        ("seven", 0.31),
        ("two", 0.7),
    ]


async def test_the_call_clock_runs_at_speed() -> None:
    conv = Conversation(_scenario(DIALOGUE[:1]), speed=50)
    assert conv.call_time == 0.0
    assert not conv.started
    assert not conv.ended
    conv.start()
    await asyncio.sleep(0.05)
    assert 2.0 <= conv.call_time <= 5.0
    await conv.wait_until(conv.scenario.duration + FINAL_LATENCY)
    assert conv.ended
    with pytest.raises(ValueError, match="speed"):
        Conversation(conv.scenario, speed=0)


async def test_a_feed_runs_once_at_a_time() -> None:
    conv = Conversation(_scenario(DIALOGUE), speed=1)
    feed = conv.transcription(locale=lambda: "en-US")
    conv.start()
    rec = Recorder(conv)
    task = asyncio.create_task(feed.run(rec))
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="already running"):
        await feed.run(rec)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_played_call_journal_replays_as_the_same_finals(tmp_path: Path) -> None:
    scenario = _scenario(DIALOGUE)
    _, rec = await _play(scenario, speed=100)
    journal = tmp_path / "played.jsonl"
    lines = [{"t": 1_760_000_000.0, "type": "header", "format": 1, "call": {}}]
    lines += [{"t": 1_760_000_000.0 + at, "type": "packet", "packet": p} for at, p in rec.sent]
    journal.write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    replay = load_scenario(journal)
    _, again = await _play(replay, speed=100)
    assert [(f.participant_raw_id, f.text, f.confidence, f.offset) for f in again.finals] == [
        (f.participant_raw_id, f.text, f.confidence, f.offset) for f in rec.finals
    ]
