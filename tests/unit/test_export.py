"""Exports: every format read back with standard tooling, and saves that cannot half-fail."""

from __future__ import annotations

import csv
import dataclasses
import html
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pysrt
import pytest
import webvtt

from console.acs.streaming import TICKS_PER_SECOND, TranscriptionData, parse_packet
from console.transcript.alerts import AlertRules, record_rules
from console.transcript.export import (
    CSV_HEADER,
    TranscriptFormatError,
    export,
    format_for_path,
    load_json,
    render,
)
from console.transcript.model import Transcript
from console.transcript.timeline import MarkerKind, Phrase

ROOT = Path(__file__).resolve().parents[2]
PHONE = "4:+15550100"
AGENT = "8:acs:res_0000-agent-00a1b2"
TEAMS = "8:orgid:00000000-0000-0000-0000-00000000beef"
T0 = 1_700_000_000.0

# (speaker, text, start s, duration s, confidence)
LINES = [
    (PHONE, "Hello, I was charged twice.", 1.2, 2.3, 0.93),
    (AGENT, "Sorry about that -- let me check --> one moment.", 4.0, 3.1, 0.88),
    (PHONE, "The total was <b>$20</b> & some change.", 8.5, 2.0, None),
    (TEAMS, "Refund approved.", 15.0, 0.0, 0.71),  # no duration from the service
    (AGENT, "Anything else? Line\nbreak\u2028here.", 3725.25, 1.5, 0.99),  # over an hour in
]


# The service's preview fields on some of them.
PREVIEW: dict[int, dict[str, Any]] = {
    0: {"sentimentAnalysisResult": {"sentiment": "negative"}, "languageIdentified": "en-US"},
    2: {"sentimentAnalysisResult": {"sentiment": "Mixed"}, "languageIdentified": "en-gb"},
}


def packet(
    raw_id: str,
    text: str,
    start: float,
    duration: float,
    conf: float | None,
    preview: dict[str, Any] | None = None,
) -> Any:
    body: dict[str, Any] = {
        "text": text,
        "format": "display",
        "offset": round(start * TICKS_PER_SECOND),
        "duration": round(duration * TICKS_PER_SECOND),
        "participantRawID": raw_id,
        "resultStatus": "Final",
        "words": [
            {
                "text": w,
                "offset": round((start + i * 0.3) * TICKS_PER_SECOND),
                "duration": 2_500_000,
            }
            for i, w in enumerate(text.split())
        ],
    }
    if conf is not None:
        body["confidence"] = conf
    body.update(preview or {})
    parsed = parse_packet(json.dumps({"kind": "TranscriptionData", "transcriptionData": body}))
    assert isinstance(parsed, TranscriptionData)
    return parsed


@pytest.fixture
def transcript() -> Transcript:
    t = Transcript(call_info={"call_connection_id": "cc-9", "target": PHONE}, call_started_at=T0)
    t.add_marker(MarkerKind.CALL_CONNECTED, T0)
    t.set_locale_confirmed("en-us", T0 + 0.5)
    for i, (raw_id, text, start, duration, conf) in enumerate(LINES):
        if i == 2:
            t.set_locale_confirmed("en-GB", T0 + 8.0)
        t.apply_packet(
            packet(raw_id, text, start, duration, conf, PREVIEW.get(i)), received_at=T0 + start + 2
        )
    t.rename(PHONE, "Dr. <Who> & Co")
    t.rename(AGENT, "Agent Smith")
    t.add_marker(MarkerKind.NOTE, T0 + 20, "escalate --> supervisor")
    return t


def speaker(t: Transcript, p: Phrase) -> str:
    participant = t.participant(p.raw_id)
    assert participant is not None
    return participant.display_name


def flat(text: str) -> str:
    """Text as a one-line export shows it."""
    return " ".join(re.split("[\n\u2028]", text))


def state(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def test_json_round_trip_is_lossless(transcript: Transcript, tmp_path: Path) -> None:
    path = export(transcript, tmp_path / "call.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == 2
    assert [(f["language"], f["sentiment"]) for f in doc["finals"]] == [
        ("en-US", "negative"),
        (None, None),
        ("en-GB", "mixed"),
        (None, None),
        (None, None),
    ]
    assert doc["insights"]["finals"] == 5
    assert doc["alerts"] == []  # nothing said matches the default rules

    reopened = load_json(path)
    assert [state(p) for p in reopened.participants] == [state(p) for p in transcript.participants]
    assert [state(p) for p in reopened.finals] == [state(p) for p in transcript.finals]
    assert reopened.markers == transcript.markers
    assert reopened.locale == "en-GB"
    assert reopened.call_started_at == T0
    assert reopened.call_info == {"call_connection_id": "cc-9", "target": PHONE}
    assert [type(i).__name__ for i in reopened.timeline()] == [
        type(i).__name__ for i in transcript.timeline()
    ]
    # Saving the reopened transcript again gives the same file.
    again = export(reopened, tmp_path / "again.json")
    assert again.read_bytes() == path.read_bytes()


def test_a_format_1_file_opens_without_languages_and_sentiments(
    transcript: Transcript, tmp_path: Path
) -> None:
    doc = json.loads(render(transcript, "json"))
    # Format 1, as an earlier version wrote it: no language or sentiment, no insights or alerts.
    doc["format"] = 1
    for key in ("insights", "alerts"):
        del doc[key]
    for item in doc["finals"]:
        del item["language"], item["sentiment"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(doc), encoding="utf-8")
    reopened = load_json(old)
    assert [p.text for p in reopened.finals] == [p.text for p in transcript.finals]
    assert {(p.language, p.sentiment) for p in reopened.finals} == {(None, None)}
    assert reopened.markers == transcript.markers
    # Saved again, it is format 2.
    assert json.loads(render(reopened, "json"))["format"] == 2


def test_insights_and_alerts_are_written_from_the_rules_recorded_with_the_call(
    tmp_path: Path,
) -> None:
    t = Transcript(call_started_at=T0)
    record_rules(t, AlertRules(("charged twice",), 2))
    said = [
        (PHONE, "Hello, I was charged twice.", 1.0, 2.0, "negative"),
        (AGENT, "Let me check.", 2.5, 1.0, "neutral"),
        (PHONE, "Please hurry.", 10.0, 1.0, "negative"),
    ]
    for raw_id, text, start, duration, sentiment in said:
        preview = {"sentimentAnalysisResult": {"sentiment": sentiment}}
        t.apply_packet(
            packet(raw_id, text, start, duration, 0.9, preview), received_at=T0 + start + 3
        )
    t.rename(AGENT, "Agent Smith")
    doc = json.loads(export(t, tmp_path / "call.json").read_text(encoding="utf-8"))
    assert [(a["kind"], a["rule"], a["at"]) for a in doc["alerts"]] == [
        ("phrase", "charged twice", 1.0),
        ("negative_streak", "2 negative turns in a row", 10.0),
    ]
    insights = doc["insights"]
    assert insights["overtalk"] == {"count": 1, "seconds": 0.5}
    assert insights["silences"]["list"] == [{"start": 3.5, "end": 10.0, "duration": 6.5}]
    assert [s["talk_seconds"] for s in insights["speakers"]] == [3.0, 1.0]
    # The plain text ends with the same, in words.
    lines = export(t, tmp_path / "call.txt").read_text(encoding="utf-8").splitlines()
    summary = lines[lines.index("-- Summary --") :]
    assert summary == [
        "-- Summary --",
        "Talk time: +15550100 00:03 (75%), Agent Smith 00:01 (25%)",
        "Words per minute: +15550100 140, Agent Smith 180",
        "Overtalk: 1 times, 0.5 s",
        "Long silences (5 s or more): 1, longest 6.5 s at 00:03",
        "Alerts: 2",
        "ALERT [00:01] +15550100: charged twice: Hello, I was charged twice.",
        "ALERT [00:10] +15550100: 2 negative turns in a row: Please hurry.",
    ]
    # Reopened, it writes the same file again.
    again = export(load_json(tmp_path / "call.json"), tmp_path / "again.json")
    assert again.read_bytes() == (tmp_path / "call.json").read_bytes()


def test_vtt_parses_with_voices_and_escaped_text(transcript: Transcript, tmp_path: Path) -> None:
    path = export(transcript, tmp_path / "call.vtt")
    vtt = webvtt.read(str(path), strict=True)
    finals = transcript.finals
    assert len(vtt.captions) == len(finals)
    for caption, phrase in zip(vtt.captions, finals, strict=True):
        assert html.unescape(caption.voice or "") == speaker(transcript, phrase)
        assert html.unescape(caption.text) == flat(phrase.text)
        assert caption.start_time.in_milliseconds() == round(phrase.start * 1000)
        assert caption.end_time.in_milliseconds() > caption.start_time.in_milliseconds()
    assert vtt.captions[0].end_time.in_milliseconds() == 3500
    assert vtt.captions[3].end_time.in_milliseconds() == 16_000  # no duration: a 1 s cue
    assert vtt.captions[4].start == "01:02:05.250"
    # The only "-->" left in the file are the cue timings.
    for line in path.read_text(encoding="utf-8").splitlines():
        if "-->" in line:
            assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}", line)


def test_srt_parses_with_speaker_and_text(transcript: Transcript, tmp_path: Path) -> None:
    path = export(transcript, tmp_path / "call.srt")
    subs = pysrt.open(str(path), encoding="utf-8")
    finals = transcript.finals
    assert len(subs) == len(finals)
    for index, (item, phrase) in enumerate(zip(subs, finals, strict=True), start=1):
        assert item.index == index
        assert item.text == f"{speaker(transcript, phrase)}: {flat(phrase.text)}"
        assert item.start.ordinal == round(phrase.start * 1000)
        assert item.end.ordinal > item.start.ordinal
    assert str(subs[4].start) == "01:02:05,250"


def test_csv_has_one_row_per_final(transcript: Transcript, tmp_path: Path) -> None:
    path = export(transcript, tmp_path / "call.csv")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == CSV_HEADER
    finals = transcript.finals
    assert len(rows) == len(finals) + 1
    for row, phrase in zip(rows[1:], finals, strict=True):
        record = dict(zip(CSV_HEADER, row, strict=True))
        assert float(record["start"]) == pytest.approx(phrase.start, abs=0.001)
        assert float(record["end"]) == pytest.approx(phrase.end, abs=0.001)
        assert record["speaker"] == speaker(transcript, phrase)
        assert record["raw_id"] == phrase.raw_id
        assert record["locale"] == phrase.locale
        assert record["text"] == phrase.text  # CSV keeps line breaks, quoted
        if phrase.confidence is None:
            assert record["confidence"] == ""
        else:
            assert float(record["confidence"]) == phrase.confidence
    assert [r[4] for r in rows[1:]] == ["en-US", "en-US", "en-GB", "en-GB", "en-GB"]
    # The preview columns come last, so readers of the older columns are not disturbed.
    assert CSV_HEADER[-2:] == ("language", "sentiment")
    assert [(r[-2], r[-1]) for r in rows[1:]] == [
        ("en-US", "negative"),
        ("", ""),
        ("en-GB", "mixed"),
        ("", ""),
        ("", ""),
    ]


def test_text_lists_speaker_time_and_text(transcript: Transcript, tmp_path: Path) -> None:
    path = export(transcript, tmp_path / "call.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    spoken = [
        m.groups()
        for line in lines
        if (m := re.fullmatch(r"\[(\d+:\d\d:\d\d)\] ([^-].*?): (.*)", line))
    ]
    assert spoken == [
        ("0:00:01", "Dr. <Who> & Co", "Hello, I was charged twice."),
        ("0:00:04", "Agent Smith", "Sorry about that -- let me check --> one moment."),
        ("0:00:08", "Dr. <Who> & Co", "The total was <b>$20</b> & some change."),
        ("0:00:15", "Teams user …00beef", "Refund approved."),
        ("1:02:05", "Agent Smith", "Anything else? Line break here."),
    ]
    assert "[0:00:08] -- Locale: en-GB --" in lines
    assert "[0:00:20] -- Note: escalate --> supervisor --" in lines
    assert any(line.startswith("Participants: Dr. <Who> & Co, Agent Smith") for line in lines)


def test_short_calls_use_minutes_and_seconds(tmp_path: Path) -> None:
    t = Transcript(call_started_at=T0)
    t.apply_packet(packet(PHONE, "Hi.", 75.0, 1.0, 0.9), received_at=T0 + 77)
    text = render(t, "txt")
    assert "[01:15] +15550100: Hi." in text.splitlines()


def test_empty_transcript_exports_are_valid(tmp_path: Path) -> None:
    t = Transcript()
    assert webvtt.read(str(export(t, tmp_path / "e.vtt")), strict=True).captions == []
    assert len(pysrt.open(str(export(t, tmp_path / "e.srt")), encoding="utf-8")) == 0
    with export(t, tmp_path / "e.csv").open(encoding="utf-8-sig", newline="") as fh:
        assert list(csv.reader(fh)) == [list(CSV_HEADER)]
    assert load_json(export(t, tmp_path / "e.json")).finals == ()


def test_format_for_path() -> None:
    assert [format_for_path(p) for p in ("a.TXT", "b.json", "c.vtt", "d.Srt", "e.csv")] == [
        "txt",
        "json",
        "vtt",
        "srt",
        "csv",
    ]
    with pytest.raises(ValueError, match="unknown transcript file type"):
        format_for_path("notes.docx")
    with pytest.raises(ValueError, match="unknown transcript format"):
        render(Transcript(), "pdf")


def test_export_format_overrides_the_suffix(transcript: Transcript, tmp_path: Path) -> None:
    path = export(transcript, tmp_path / "call.data", "vtt")
    assert path.read_text(encoding="utf-8").startswith("WEBVTT")


def test_load_json_rejects_other_files(tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": 3, "finals": []}))
    with pytest.raises(TranscriptFormatError, match="unsupported transcript format 3"):
        load_json(other)
    other.write_text(json.dumps({"format": True, "finals": []}))
    with pytest.raises(TranscriptFormatError, match="unsupported transcript format True"):
        load_json(other)
    other.write_text('{"format": 1, "finals": [{"id": "x"}]}')
    with pytest.raises(TranscriptFormatError, match="invalid transcript"):
        load_json(other)
    other.write_text("WEBVTT\n")
    with pytest.raises(TranscriptFormatError, match="not a JSON transcript"):
        load_json(other)


FAILING_SAVE = textwrap.dedent(
    """
    import resource, signal, sys
    sys.path.insert(0, sys.argv[2])
    from console.acs.streaming import parse_packet
    from console.transcript.export import export
    from console.transcript.model import Transcript

    t = Transcript(call_started_at=0.0)
    for n in range(400):
        frame = ('{"kind":"TranscriptionData","transcriptionData":{"text":"%s","offset":%d,'
                 '"duration":1000,"participantRawID":"4:+1","resultStatus":"Final"}}'
                 % ("word " * 60, n * 10_000_000))
        t.apply(parse_packet(frame), received_at=float(n))
    # Writes past 64 KiB fail with EFBIG: the disk "fills up" in the middle of the save.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, resource.RLIM_INFINITY))
    try:
        export(t, sys.argv[1])
    except OSError as exc:
        print("failed", exc.errno)
    else:
        print("saved")
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="needs RLIMIT_FSIZE")
@pytest.mark.parametrize("name", ["call.json", "call.vtt"])
def test_a_save_failing_midway_keeps_the_old_file(tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    target.write_text("the earlier save\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", FAILING_SAVE, str(target), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.split()[0] == "failed", result.stdout + result.stderr
    assert target.read_text(encoding="utf-8") == "the earlier save\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temp file left


def test_a_failed_replace_leaves_no_temp_file(transcript: Transcript, tmp_path: Path) -> None:
    target = tmp_path / "taken.txt"
    target.mkdir()
    (target / "keep").write_text("x")
    with pytest.raises((IsADirectoryError, PermissionError)):
        export(transcript, target, "txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.txt"]
    assert (target / "keep").read_text() == "x"


def test_saving_over_a_file_keeps_its_permissions(transcript: Transcript, tmp_path: Path) -> None:
    target = tmp_path / "shared.txt"
    target.write_text("old")
    target.chmod(0o640)
    export(transcript, target)
    assert target.stat().st_mode & 0o777 == 0o640
    assert target.read_text(encoding="utf-8").startswith("Call transcript")
