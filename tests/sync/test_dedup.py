"""sync.dedup.classify: Central's outcome table, without a database."""

from __future__ import annotations

import pytest

from sync import Outcome, StoredVersion, classify, parse_submission
from tests import factories

XML = factories.submission_xml(instance_id="uuid:1")
ENV = parse_submission(XML)
EDIT = parse_submission(
    factories.submission_xml(instance_id="uuid:2", deprecated_id="uuid:1")
)


@pytest.mark.parametrize(
    ("envelope", "same", "deprecated", "outcome"),
    [
        (ENV, None, None, Outcome.NEW),
        (ENV, StoredVersion(ENV.sha256, True), None, Outcome.RESEND),
        (ENV, StoredVersion("other", True), None, Outcome.CONFLICT),
        (ENV, StoredVersion(ENV.sha256, False), None, Outcome.STALE),
        (ENV, StoredVersion(ENV.sha256, True, True), None, Outcome.DELETED),
        (EDIT, None, StoredVersion("x", True), Outcome.EDIT),
        (EDIT, None, None, Outcome.UNKNOWN_DEPRECATED),
        (EDIT, None, StoredVersion("x", False), Outcome.STALE),
        (EDIT, None, StoredVersion("x", True, True), Outcome.DELETED),
        (
            EDIT,
            StoredVersion(EDIT.sha256, True),
            StoredVersion("x", False),
            Outcome.RESEND,
        ),
    ],
    ids=[
        "new",
        "identical",
        "different-xml",
        "old-version",
        "deleted",
        "edit",
        "unknown-deprecated",
        "edit-of-old-version",
        "edit-of-deleted",
        "edit-resent",
    ],
)
def test_classify(envelope, same, deprecated, outcome):
    assert classify(envelope, same, deprecated) is outcome
