"""Errors raised by the sync library; each has a stable code and one message template."""

from __future__ import annotations

import typing as t


class SyncError(Exception):
    """Base class for sync errors."""

    code: t.ClassVar[str] = "sync.error"
    template: t.ClassVar[str] = "Submission could not be processed."

    def __init__(self, **context: t.Any) -> None:
        self.context = context
        super().__init__(self.template.format(**context))

    @property
    def message(self) -> str:
        """The user-facing message."""
        return str(self)


class MalformedSubmissionError(SyncError):
    """The instance XML cannot be parsed, is hostile, or lacks the form id."""

    code = "submission.malformed"
    template = "The submission XML could not be read: {reason}"


class MissingFormIdError(MalformedSubmissionError):
    """The instance root carries no @id."""

    code = "submission.form_id_missing"
    template = "The submission has no form ID (the root element needs an id attribute)."
