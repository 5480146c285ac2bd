"""A child process that appends to a journal until killed: a Final every four packets, each
number printed only once ``append_packet`` has returned. Arguments: the journal's folder, the
source tree, the Final after which it waits to be killed, and (optionally) the key in hex."""

from __future__ import annotations

import textwrap

APPENDER = textwrap.dedent(
    """
    import json, sys, time
    sys.path.insert(0, sys.argv[2])
    from console.transcript.journal import Journal

    key = bytes.fromhex(sys.argv[4]) if len(sys.argv) > 4 else None
    journal = Journal.create(sys.argv[1], {"child": True}, key=key)
    print(journal.path, flush=True)
    n = 0
    while True:
        base = n * 2_000_000
        for i in range(3):
            frame = json.dumps({"kind": "TranscriptionData", "transcriptionData": {
                "text": "partial " * (i + 1), "offset": base, "duration": 100,
                "participantRawID": "4:+15550100", "resultStatus": "Intermediate"}})
            journal.append_packet(frame, received_at=time.time(), final=False)
        frame = json.dumps({"kind": "TranscriptionData", "transcriptionData": {
            "text": f"Final {n}.", "offset": base, "duration": 100,
            "participantRawID": "4:+15550100", "resultStatus": "Final"}})
        journal.append_packet(frame, received_at=time.time(), final=True)
        print(n, flush=True)  # reported only after append_packet returned
        if n == int(sys.argv[3]):
            sys.stdin.readline()  # wait to be killed: nothing may still be in a buffer
        n += 1
    """
)
