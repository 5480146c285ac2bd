"""What the transcript view shows beside a call's text: the alerts on each Final, each speaker's
sentiment trend (their last turns), and where the insights strip reads from: the live session's
running insights, or, for a saved transcript, insights and alerts computed once from it."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

from console.transcript.alerts import Alert, alerts_for
from console.transcript.insights import TREND_TURNS, InsightsSnapshot, compute_insights
from console.transcript.model import Transcript
from console.transcript.timeline import Phrase, PhraseStatus

InsightsSource = Callable[[], InsightsSnapshot]


class CallMarks:
    def __init__(self) -> None:
        self._alerts: dict[int, list[str]] = {}  # Final id -> rules it raised
        self.alert_count = 0
        self._trends: dict[str, deque[str]] = {}
        self._insights: InsightsSource | None = None

    def reset(
        self,
        transcript: Transcript | None,
        *,
        alerts: Iterable[Alert] | None = None,
        insights: InsightsSource | None = None,
    ) -> None:
        """A transcript comes into view: its alerts so far (None: worked out from it) and its
        insights (None: computed once from it, as for a saved transcript)."""
        self._alerts.clear()
        self.alert_count = 0
        self._trends.clear()
        if transcript is None:
            self._insights = None
            return
        for alert in alerts_for(transcript) if alerts is None else alerts:
            self.note_alert(alert)
        if insights is None:
            cached: list[InsightsSnapshot] = []

            def once() -> InsightsSnapshot:
                if not cached:
                    cached.append(compute_insights(transcript))
                return cached[0]

            insights = once
        self._insights = insights

    def restart_trends(self, transcript: Transcript) -> None:
        """Each speaker's trend from their last Finals (the view writes old text out of order)."""
        self._trends.clear()
        for participant in transcript.participants:
            for phrase in transcript.settled_for(participant.raw_id):
                if phrase.status is PhraseStatus.FINAL:
                    self.note_final(phrase)

    def note_alert(self, alert: Alert) -> None:
        self._alerts.setdefault(alert.phrase_id, []).append(alert.rule)
        self.alert_count += 1

    def alerts_on(self, phrase: Phrase) -> list[str]:
        return self._alerts.get(phrase.id, [])

    def note_final(self, phrase: Phrase) -> None:
        """A new Final: its sentiment joins its speaker's trend."""
        if phrase.sentiment:
            trend = self._trends.get(phrase.raw_id)
            if trend is None:
                trend = self._trends[phrase.raw_id] = deque(maxlen=TREND_TURNS)
            trend.append(phrase.sentiment)

    def trend(self, raw_id: str) -> tuple[str, ...]:
        return tuple(self._trends.get(raw_id, ()))

    def snapshot(self) -> InsightsSnapshot | None:
        return self._insights() if self._insights is not None else None
