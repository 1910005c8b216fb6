"""Record-linkage errors: stable codes, one message template each (sync.errors style)."""

from __future__ import annotations

from sync.errors import SyncError

__all__ = [
    "LinkageError",
    "RuleSetError",
    "UnknownComparatorError",
    "FormMismatchError",
    "SecretRequiredError",
]


class LinkageError(SyncError):
    """Base class for record-linkage errors."""

    code = "linkage.error"
    template = "Record linkage failed: {reason}"


class RuleSetError(LinkageError):
    """A rule-set file is unreadable or invalid; ``where`` names the offending entry."""

    code = "linkage.rules.invalid"
    template = "Invalid dedup rule set {source}: {where}: {reason}"


class UnknownComparatorError(RuleSetError):
    """A comparison or blocking part names a comparator that does not exist."""

    code = "linkage.rules.unknown_comparator"
    template = (
        "Invalid dedup rule set {source}: {where}: unknown comparator {name!r} "
        "(known: {known})"
    )


class FormMismatchError(LinkageError):
    """A record was given to the rule set of another form."""

    code = "linkage.form_mismatch"
    template = "Record {record_id} belongs to form {form_id!r}, not {expected!r}."


class SecretRequiredError(LinkageError):
    """Blocking keys would be derived from personal data without a secret."""

    code = "linkage.secret_required"
    template = (
        "Blocking keys of form {form_id!r} use personal fields ({fields}); bind a "
        "secret with rules.bind(secret=...) so the stored keys cannot be reversed."
    )
