"""A searchable dropdown of region-qualified transcription locales."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QCompleter, QWidget

from console.acs import locales as loc


class LocaleCombo(QComboBox):
    """Type any part of a name or code ("span", "es-m", "Mexico") to filter the list."""

    locale_chosen = Signal(str)  # canonical code, only on an operator's choice

    def __init__(self, parent: QWidget | None = None, *, locales: list[str] | None = None) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setMaxVisibleItems(16)
        self.setMinimumContentsLength(24)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        entries = [loc.get(c) for c in locales] if locales else list(loc.LOCALES)
        for entry in entries:
            if entry is not None:
                self.addItem(entry.label, entry.code)
        completer = QCompleter(self.model(), self)
        completer.setCompletionColumn(0)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.setCompleter(completer)
        self.lineEdit().setPlaceholderText("Search languages…")
        self._code: str | None = None
        self.activated.connect(self._on_activated)
        completer.activated[str].connect(self._on_completed)
        self.lineEdit().editingFinished.connect(self._on_edited)

    def locale(self) -> str | None:
        return self._code

    def set_locale(self, code: str | None) -> None:
        """Show a locale without treating it as the operator's choice."""
        if not code:
            return
        entry = loc.get(code)
        canonical = entry.code if entry else code
        self._code = canonical
        i = self.findData(canonical)
        self.blockSignals(True)
        if i >= 0:
            self.setCurrentIndex(i)
        else:
            self.setEditText(canonical)
        self.blockSignals(False)

    def _choose(self, code: str) -> None:
        changed = code != self._code
        self.set_locale(code)
        if changed:
            self.locale_chosen.emit(code)

    def _on_activated(self, index: int) -> None:
        code = self.itemData(index)
        if isinstance(code, str):
            self._choose(code)

    def _on_completed(self, text: str) -> None:
        i = self.findText(text)
        if i >= 0:
            self._on_activated(i)

    def _on_edited(self) -> None:
        text = self.currentText().strip()
        i = self.findText(text)
        if i >= 0:
            self._on_activated(i)
            return
        try:
            code = loc.validate_locale(text)
        except loc.InvalidLocaleError as exc:
            self.setToolTip(str(exc))
            self.set_locale(self._code)  # put back what is in force
            return
        self._choose(code)
