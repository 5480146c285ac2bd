"""Scenario files: the shipped ones load, bad ones are refused clearly, journals replay."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from console.emulator.scenario import (
    Scenario,
    ScenarioError,
    available_scenarios,
    load_scenario,
    parse_scenario,
    scenarios_dir,
    tokenize,
)

AGENT = "8:acs:res_agent"
CALLER = "4:+15550100100"


def _overlaps(s: Scenario) -> list[tuple[int, int]]:
    spans = [(u.start, u.start + u.span(s.default_locale), u.speaker) for u in s.utterances]
    return [
        (i, j)
        for i, (a0, a1, sa) in enumerate(spans)
        for j, (b0, _, sb) in enumerate(spans)
        if i < j and sa != sb and a0 <= b0 < a1
    ]


def test_the_three_scenarios_ship_and_are_listed() -> None:
    assert scenarios_dir().is_dir()
    assert {"support-call", "multilingual", "conference"} <= set(available_scenarios())


def test_support_call_is_a_two_party_en_us_call_of_two_to_three_minutes() -> None:
    s = load_scenario("support-call")
    assert s.format == 1
    assert s.name == "support-call"
    assert s.default_locale == "en-US"
    kinds = sorted(
        p.raw_id.split(":")[0] + ":" + p.raw_id.split(":")[1][:3] for p in s.participants
    )
    assert len(s.participants) == 2
    assert any(p.raw_id.startswith("8:acs:") for p in s.participants), kinds
    assert any(p.raw_id.startswith("4:+1555") for p in s.participants), kinds
    assert all(p.display_name for p in s.participants)
    assert 120 <= s.duration <= 190
    assert s.locales == ("en-US",)
    assert {u.speaker for u in s.utterances} == {p.raw_id for p in s.participants}
    assert any(u.confidence < 0.7 for u in s.utterances)  # the phone line has rough moments
    assert any(w in ("um", "uh") for u in s.utterances for w in _words(u.text["en-US"]))
    starts = [u.start for u in s.utterances]
    assert starts == sorted(starts)


def test_multilingual_has_every_line_in_four_languages() -> None:
    s = load_scenario("multilingual")
    assert 100 <= s.duration <= 150
    assert 2 <= len(s.participants) <= 3
    for u in s.utterances:
        assert set(u.text) == {"en-US", "es-ES", "fr-FR", "de-DE"}
    # The languages really differ, line by line.
    for u in s.utterances[:5]:
        assert len(set(u.text.values())) == 4


def test_conference_mixes_identities_overlaps_and_low_confidence() -> None:
    s = load_scenario("conference")
    ids = [p.raw_id for p in s.participants]
    assert len(ids) == 4
    assert any(i.startswith("4:+") for i in ids)
    assert any(i.startswith("8:acs:") for i in ids)
    assert any(i.startswith("8:orgid:") for i in ids)
    assert 150 <= s.duration <= 200
    assert sum(u.confidence < 0.6 for u in s.utterances) >= 3
    assert sum(u.confidence < 0.4 for u in s.utterances) >= 2
    assert len(_overlaps(s)) >= 3


def _words(text: str) -> list[str]:
    return [t.word for t in tokenize(text)]


def _doc() -> dict[str, Any]:
    return {
        "format": 1,
        "name": "tiny",
        "default_locale": "en-US",
        "participants": [
            {"raw_id": AGENT, "display_name": "Agent"},
            {"raw_id": CALLER, "display_name": "Caller"},
        ],
        "utterances": [
            {"speaker": AGENT, "start": 1.0, "text": "How can I help?", "confidence": 0.95},
            {"speaker": CALLER, "gap": 0.5, "text": "My bill is wrong.", "confidence": 0.7},
        ],
    }


def _write(tmp_path: Path, doc: Any, name: str = "bad.json") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def test_a_file_loads_by_path_with_gaps_resolved(tmp_path: Path) -> None:
    path = _write(tmp_path, _doc(), "tiny.json")
    for ref in (path, str(path)):
        s = load_scenario(ref)
        assert s.source == path
        first, second = s.utterances
        assert first.start == 1.0
        # "gap" counts from when the first utterance ends.
        assert second.start == pytest.approx(first.start + first.span("en-US") + 0.5, abs=1e-3)
        assert s.duration == pytest.approx(second.start + second.span("en-US"))
        assert s.participant(CALLER).display_name == "Caller"


def test_a_negative_gap_overlaps_and_the_next_gap_counts_from_the_quiet() -> None:
    doc = _doc()
    doc["utterances"] = [
        {
            "speaker": AGENT,
            "start": 0.0,
            "text": "one two three four five six seven eight nine ten",
        },
        {"speaker": CALLER, "gap": -2.0, "text": "Mm-hmm."},
        {"speaker": CALLER, "gap": 0.5, "text": "Right."},
    ]
    s = parse_scenario(doc)
    long, backchannel, after = s.utterances
    long_end = long.start + long.span("en-US")
    assert backchannel.start == pytest.approx(long_end - 2.0, abs=1e-3)
    assert backchannel.start + backchannel.span("en-US") < long_end
    assert after.start == pytest.approx(long_end + 0.5, abs=1e-3)


def _mutate(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Set (or delete, for value=...) a dotted path like 'utterances.0.text'."""
    doc = copy.deepcopy(doc)
    *parents, last = path.split(".")
    node: Any = doc
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    key: Any = int(last) if isinstance(node, list) else last
    if value is ...:
        del node[key]
    else:
        node[key] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("format", 2, "unsupported format 2 (newer than this console)"),
        ("format", ..., "missing field 'format'"),
        ("participants", [], "participants: must be a non-empty list"),
        ("participants.1.raw_id", AGENT, "participants[1]: duplicate raw_id"),
        ("utterances.1.speaker", "4:+19999", "utterances[1]: speaker '4:+19999' is not one"),
        ("utterances.0.confidance", 0.5, "utterances[0]: unknown field 'confidance'"),
        ("utterances.0.confidence", 1.5, "field 'confidence' must be between 0 and 1"),
        (
            "utterances.0.text",
            {"es-ES": "Hola", "fr-FR": "Salut"},
            "no text for the default locale en-US",
        ),
        ("utterances.0.language", "fr-FR", "'language' is fr-FR, but the utterance has no fr-FR"),
        ("utterances.0.language", "french", "'french' is not a locale with a region"),
        ("utterances.0.sentiment", "angry", "'sentiment' is one of positive, negative, neutral"),
        ("utterances.0.text", {"english": "Hi"}, "'english' is not a locale with a region"),
        ("utterances.0.text", "  ...  ", "must be a string with words in it"),
        ("utterances.0.start", "soon", "field 'start' must be a number, got a string"),
        ("utterances.0.gap", 1.0, "give either 'start' or 'gap', not both"),
        ("default_locale", "en", "'en' is not a locale with a region"),
        ("faults", [{"kind": "dropTranscriptStream"}], "faults[0]: missing field 'at'"),
        ("faults", [{"at": 3, "kind": "x", "params": [1]}], "field 'params' must be an object"),
        (
            "utterances.1.revisions",
            [{"word": "invoice", "heard": "in voice"}],
            "word 'invoice' is not in the en-US text",
        ),
        ("options", {"revision_rate": 2}, "field 'revision_rate' must be between 0 and 1"),
    ],
)
def test_bad_files_name_the_file_and_the_problem(
    tmp_path: Path, path: str, value: Any, expected: str
) -> None:
    file = _write(tmp_path, _mutate(_doc(), path, value))
    with pytest.raises(ScenarioError) as info:
        load_scenario(file)
    assert str(file) in str(info.value)
    assert expected in str(info.value)


def test_a_speaker_cannot_talk_over_themselves(tmp_path: Path) -> None:
    doc = _doc()
    doc["utterances"].append({"speaker": CALLER, "gap": -1.0, "text": "And another thing."})
    file = _write(tmp_path, doc)
    with pytest.raises(ScenarioError, match=r"utterances\[2\]: starts at .* before the same"):
        load_scenario(file)


def test_unreadable_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="not valid JSON"):
        load_scenario(_write(tmp_path, "{ not json"))
    with pytest.raises(ScenarioError, match="expected an object, got a list"):
        load_scenario(_write(tmp_path, "[1, 2]"))
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(tmp_path / "absent.json")
    with pytest.raises(ScenarioError, match=r"no such scenario \(available: .*support-call"):
        load_scenario("no-such-scenario")


# --- journal replay ----------------------------------------------------------------------------


def _packet(raw_id: str, text: str, status: str, offset: float, duration: float, **extra: Any):
    body = {
        "text": text,
        "format": "display",
        "offset": int(offset * 10_000_000),
        "duration": int(duration * 10_000_000),
        "participantRawID": raw_id,
        "resultStatus": status,
        **extra,
    }
    return {"kind": "TranscriptionData", "transcriptionData": body}


def _journal_lines() -> list[dict[str, Any]]:
    t = 1_760_000_000.0
    teams = "8:orgid:11111111-2222-3333-4444-555555555555"
    return [
        {"t": t, "type": "header", "format": 1, "call": {"call_connection_id": "abc"}},
        {
            "t": t + 0.5,
            "type": "event",
            "event": {
                "id": "ev-1",
                "source": "calling/callConnections/abc",
                "specversion": "1.0",
                "type": "Microsoft.Communication.ParticipantsUpdated",
                "data": {
                    "participants": [
                        {"identifier": {"rawId": AGENT}, "isMuted": False},
                        {"identifier": {"rawId": CALLER}, "isMuted": False},
                        {"identifier": {"rawId": teams}, "isMuted": True},
                    ],
                    "sequenceNumber": 1,
                },
            },
        },
        {
            "t": t + 1,
            "type": "packet",
            "packet": {
                "kind": "TranscriptionMetadata",
                "transcriptionMetadata": {"subscriptionId": "s", "locale": "en-us"},
            },
        },
        {"t": t + 2, "type": "packet", "packet": _packet(AGENT, "hello", "Intermediate", 1.0, 0.4)},
        {
            "t": t + 3,
            "type": "packet",
            "packet": _packet(AGENT, "Hello, how can I help?", "Final", 1.0, 1.6, confidence=0.93),
        },
        {"t": t + 3.5, "type": "rename", "raw_id": CALLER, "name": "Dana"},
        {
            "t": t + 5,
            "type": "packet",
            "packet": _packet(CALLER, "My bill is wrong.", "Final", 3.2, 1.5, confidence=0.61),
        },
        {"t": t + 6, "type": "marker", "kind": "locale_changed", "detail": "es-ES"},
        {
            "t": t + 9,
            "type": "packet",
            "packet": _packet(AGENT, "Lo siento mucho.", "final", 7.0, 1.2, confidence=0.88),
        },
        {"t": t + 10, "type": "closed"},
    ]


def _write_journal(tmp_path: Path, records: list[dict[str, Any]], tail: str = "") -> Path:
    path = tmp_path / "call-2026.jsonl"
    text = "".join(json.dumps(r) + "\n" for r in records) + tail
    path.write_text(text, encoding="utf-8")
    return path


def test_a_journal_replays_as_a_scenario(tmp_path: Path) -> None:
    # A crash can leave a half-written last line; replay skips it.
    path = _write_journal(tmp_path, _journal_lines(), tail='{"t": 17600000')
    s = load_scenario(path)
    assert s.name == "call-2026"
    assert s.default_locale == "en-US"
    assert [(u.speaker, u.start, dict(u.text), u.confidence) for u in s.utterances] == [
        (AGENT, 1.0, {"en-US": "Hello, how can I help?"}, 0.93),
        (CALLER, 3.2, {"en-US": "My bill is wrong."}, 0.61),
        (AGENT, 7.0, {"es-ES": "Lo siento mucho."}, 0.88),
    ]
    assert s.utterances[0].span(s.default_locale) == pytest.approx(1.6)
    names = {p.raw_id: p.display_name for p in s.participants}
    assert names[CALLER] == "Dana"
    assert "8:orgid:11111111-2222-3333-4444-555555555555" in names  # from ParticipantsUpdated
    assert s.duration == pytest.approx(8.2)


def test_a_journal_without_finals_is_refused(tmp_path: Path) -> None:
    records = [r for r in _journal_lines() if r["type"] != "packet"]
    path = _write_journal(tmp_path, records)
    with pytest.raises(ScenarioError, match="no Final transcription packets"):
        load_scenario(path)


def test_the_scenarios_folder_can_be_pointed_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, _doc(), "training-room.json")
    monkeypatch.setenv("ACS_CONSOLE_SCENARIOS", str(tmp_path))
    assert scenarios_dir() == tmp_path
    assert available_scenarios() == ["training-room"]
    assert load_scenario("training-room").name == "tiny"


def _silence(path: Path, seconds: float = 1.0) -> Path:
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(bytes(int(32000 * seconds)))
    return path


def test_the_dialled_party_stands_in_for_the_customer(tmp_path: Path) -> None:
    from console.emulator.participants import cast_scenario

    scenario = load_scenario("support-call")
    roles = {p.role: p.raw_id for p in scenario.participants}
    cast, everyone = cast_scenario(scenario, ["4:+15550100"], "4:+15550100")
    assert everyone == [roles["agent"], "4:+15550100"]
    speakers = {u.speaker for u in cast.utterances}
    assert speakers == {roles["agent"], "4:+15550100"}  # the customer's lines, said by the target


def test_a_wav_for_the_dialled_party_replaces_the_customer_and_their_script(
    tmp_path: Path,
) -> None:
    from console.emulator.participants import cast_scenario
    from console.emulator.scenario import with_recordings

    scenario = load_scenario("support-call")
    roles = {p.role: p.raw_id for p in scenario.participants}
    voiced = with_recordings(scenario, [("4:+15550100", _silence(tmp_path / "caller.wav"))])
    cast, everyone = cast_scenario(voiced, ["4:+15550100"], "4:+15550100")
    # Two parties, not three: the scripted customer does not stay on the call.
    assert everyone == [roles["agent"], "4:+15550100"]
    assert roles["customer"] not in everyone
    assert {u.speaker for u in cast.utterances} == {roles["agent"]}  # the WAV speaks for them
    (caller,) = [p for p in cast.participants if p.raw_id == "4:+15550100"]
    assert caller.audio == tmp_path / "caller.wav"
    assert caller.role == "customer"


def test_an_utterance_says_which_language_it_is_spoken_in_and_its_sentiment(
    tmp_path: Path,
) -> None:
    doc = _doc()
    doc["utterances"][0].update(
        {
            "text": {"en-US": "How can I help?", "es-ES": "¿En qué puedo ayudar?"},
            "language": "es-es",
        }
    )
    doc["utterances"][1]["sentiment"] = "Negative"
    doc["utterances"].append({"speaker": AGENT, "text": {"fr-FR": "Bien sûr."}})
    doc["utterances"].append(
        {"speaker": CALLER, "text": {"en-US": "Thanks.", "de-DE": "Danke."}, "gap": 0.5}
    )
    s = load_scenario(_write(tmp_path, doc, "languages.json"))
    asked, wrong, french, thanks = s.utterances
    assert asked.spoken_language(s.default_locale) == "es-ES"  # as given (canonical)
    assert french.spoken_language(s.default_locale) == "fr-FR"  # its only text
    assert thanks.spoken_language(s.default_locale) == "en-US"  # the default
    assert (wrong.sentiment, asked.sentiment) == ("negative", None)


def test_the_shipped_scenarios_show_sentiment_languages_and_personal_data() -> None:
    support = load_scenario("support-call")
    customer = next(p.raw_id for p in support.participants if p.role == "customer")
    said = [u for u in support.utterances if u.speaker == customer]
    assert [u.sentiment for u in said[:3]] == ["negative"] * 3  # a streak, from the start
    assert any(u.sentiment == "positive" for u in said)
    texts = " ".join(u.text["en-US"] for u in support.utterances)
    assert "4111 1111 1111 1111" in texts
    assert "@example.com" in texts
    assert "cancel my account" in texts
    multilingual = load_scenario("multilingual")
    spoken = {u.spoken_language(multilingual.default_locale) for u in multilingual.utterances}
    assert spoken == {"en-US", "fr-FR", "de-DE"}
