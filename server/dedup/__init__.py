"""Duplicates that IDs cannot catch: record linkage on the server, a reviewer's queue.

* ``rules``: the rule sets (``xlsforms/dedup/*.toml``) bound to the server's secret;
* ``check``: the ``dedup.check`` job ingest enqueues for every new or edited version
  of a form with rules (keys, candidates, scored pairs);
* ``scan``: the batch scan of a whole form (``outreach dedup scan``);
* ``instance``: a rule set's fields read from stored instance XML;
* ``links``: the "is a duplicate of" links and what indicators leave out;
* ``review``: the queue of clusters, decisions (``same``/``different``) and undo.

The engine is ``sync.linkage`` (pure). Nothing here deletes or merges a submission:
a ``same`` decision flags the other members as duplicates of the primary; they stay
stored, listed and downloadable, and only counts leave them out.
"""

from __future__ import annotations

import typing as t

from server import jobs
from server.dedup.check import (
    CheckResult,
    candidate_ids,
    check_submission,
    check_version,
)
from server.dedup.links import duplicate_of, excluded
from server.dedup.rules import rule_sets, rules_for, wants
from server.dedup.scan import ScanResult, scan_form

__all__ = [
    "JOB_KIND",
    "CheckResult",
    "ScanResult",
    "candidate_ids",
    "check_submission",
    "check_version",
    "duplicate_of",
    "excluded",
    "rule_sets",
    "rules_for",
    "scan_form",
]

JOB_KIND = "dedup.check"


@jobs.handler(JOB_KIND, triggered_by=wants)
def _run(job: t.Any) -> None:
    """The job ingest enqueues: check the submission of the stored version."""
    if job.submission_def_id is not None:
        check_version(job.submission_def_id)
