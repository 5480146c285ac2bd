"""One call's logic without I/O: its states, the pure reducer from callback events to state and
notices, the liveness watchdog and the locale-change debouncer. :mod:`console.session` puts
them together with the SDK calls, the transcript and the journal."""
