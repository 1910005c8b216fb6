"""Store a submission version exactly once, whatever the network did (reference 4.3).

The decision itself is ``sync.classify``; this module reads what is stored, applies the
decision in one short transaction, and maps the unique-key race back onto the same
outcome a sequential resend gets.
"""

from __future__ import annotations

import typing as t
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from server import audit, blobs, jobs, problem, store
from server.db import begin_writes, db
from server.forms import get_form as find_form  # noqa: F401  (re-exported)
from server.models import (
    Form,
    FormDef,
    utcnow,
)
from sync import (
    Envelope,
    MalformedSubmissionError,
    MissingFormIdError,
    Outcome,
    StoredVersion,
    classify,
    field_values,
    parse_submission,
)

MAX_TRIES = 4


class _Retry(Exception):
    """Another request changed what we read; classify again."""


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What happened to one POSTed version."""

    outcome: Outcome
    submission_id: int
    instance_id: str  # the logical key (first instanceID)
    filled: tuple[str, ...] = ()


class Part(t.Protocol):
    """A received file part, already spooled: ``keep`` makes it a blob."""

    filename: str | None
    content_type: str | None

    def keep(self) -> blobs.BlobInfo: ...


@dataclass(frozen=True, slots=True)
class FormTarget:
    """The form and version a submission goes to."""

    form_id: int
    form_def_id: int
    binary_paths: tuple[str, ...]
    commune_path: str | None = None  # where the submission names its commune


def parse(xml: bytes) -> Envelope:
    """Parse client XML with the configured bounds; map failures to 400 problems."""
    config = current_app.config
    try:
        return parse_submission(
            xml, max_bytes=config["MAX_XML_BYTES"], max_depth=config["MAX_XML_DEPTH"]
        )
    except MissingFormIdError as err:
        raise problem.missing_parameter("form ID (root element id attribute)") from err
    except MalformedSubmissionError as err:
        raise problem.unparseable("xml", err.message) from err


def target_for(form: Form, envelope: Envelope, *, draft: bool = False) -> FormTarget:
    """Pick the form version the submission names (any published one), or 404.6/409.2."""
    if draft:
        form_def = form.draft_def
        if form_def is None:
            raise problem.not_found()
    else:
        if form.state == "closed" or form.current_def_id is None:
            raise problem.not_accepting_submissions()
        row = db.session.execute(
            sa.select(FormDef.id, FormDef.binary_paths, FormDef.commune_path)
            .where(
                FormDef.form_id == form.id,
                FormDef.version == envelope.version,
                FormDef.published_at.is_not(None),
            )
            .order_by(FormDef.id.desc())
            .limit(1)
        ).first()
        if row is None:
            raise problem.form_version_not_found(envelope.version)
        return FormTarget(form.id, row[0], tuple(row[1] or ()), row[2])
    return FormTarget(
        form.id,
        form_def.id,
        tuple(form_def.binary_paths or ()),
        form_def.commune_path,
    )


def resolve_target(
    project_id: int, envelope: Envelope, actor_id: int | None, *, field_key: bool
) -> tuple[FormTarget, StoredState]:
    """Form, version and what is stored, for an OpenRosa POST, in one query.

    Raises 404.1, 403.1, 409.2 or 404.6; the state is what :func:`ingest` decides on.
    """
    row = store.form_for_submission(
        project_id,
        envelope.form_id,
        envelope.version,
        actor_id,
        envelope.instance_id,
        envelope.deprecated_id,
    )
    if row is None:
        raise problem.not_found()
    if field_key and not row.assigned:
        raise problem.insufficient_rights()
    if row.state == "closed" or row.current_def_id is None:
        raise problem.not_accepting_submissions()
    if row.def_id is None:
        raise problem.form_version_not_found(envelope.version)
    target = FormTarget(
        row.id, row.def_id, tuple(row.binary_paths or ()), row.commune_path
    )
    same = store.stored_of(row, "same")
    deprecated = store.stored_of(row, "deprecated") if same is None else None
    return target, _state_of(envelope, same, deprecated)


def expected_attachments(
    envelope: Envelope, binary_paths: t.Iterable[str]
) -> list[str]:
    """File names the submission expects: values of binary fields, or encrypted parts."""
    names: list[str] = []
    if envelope.encrypted:
        names = envelope.encrypted_files()
    else:
        for path in binary_paths:
            names += [PurePosixPath(v).name for v in field_values(envelope.root, path)]
    return list(dict.fromkeys(n for n in names if n))


def _match_name(part_name: str, part: Part, expected: set[str]) -> str | None:
    for candidate in (part_name, part.filename or ""):
        if candidate in expected:
            return candidate
        try:  # Central re-decodes non-ASCII names sent as latin1
            fixed = candidate.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if fixed in expected:
            return fixed
    return None


def store_parts(
    parts: t.Iterable[tuple[str, Part]], expected: list[str]
) -> dict[str, blobs.BlobInfo]:
    """Keep the expected parts as blobs; parts the form does not expect are ignored."""
    wanted = set(expected)
    stored: dict[str, blobs.BlobInfo] = {}
    for part_name, part in parts:
        name = _match_name(part_name, part, wanted)
        if name is None or name in stored:
            continue
        stored[name] = part.keep()
    return stored


def ingest(
    project_id: int,
    form: Form,
    envelope: Envelope,
    xml: bytes,
    parts: t.Iterable[tuple[str, Part]] = (),
    *,
    actor_id: int | None,
    device_id: str | None = None,
    user_agent: str | None = None,
    draft: bool = False,
    target: FormTarget | None = None,
    state: StoredState | None = None,
) -> IngestResult:
    """Apply Central's outcome table to one version; commits; raises Problems.

    ``target`` and ``state`` (from :func:`resolve_target`) skip the lookups when the
    caller already made them in this transaction.
    """
    if target is None:
        target = target_for(form, envelope, draft=draft)
    expected = expected_attachments(envelope, target.binary_paths)
    # Decide once before touching the disk: a request that will be refused writes no
    # files, and a resend writes only the attachments that are still missing.
    if state is None:
        state = _read_state(target, envelope, draft)
    _raise_for(state.outcome, envelope)
    arrived = store_parts(parts, _still_wanted(state, expected))
    meta = {"actor_id": actor_id, "device_id": device_id, "user_agent": user_agent}
    for attempt in range(MAX_TRIES):
        try:
            if attempt:  # someone else wrote in between: read again
                state = _read_state(target, envelope, draft)
            outcome = state.outcome
            if outcome is not Outcome.NEW and (arrived or outcome is Outcome.EDIT):
                # Several statements: they need a transaction. A new submission is one
                # statement on PostgreSQL, where the session may be in autocommit.
                begin_writes()
            result = _apply(
                target, envelope, xml, expected, arrived, draft, meta, state
            )
            db.session.commit()
            return result
        except (IntegrityError, _Retry):
            db.session.rollback()
            if attempt == MAX_TRIES - 1:
                raise
        except BaseException:
            db.session.rollback()
            raise
    raise AssertionError("unreachable")


@dataclass(frozen=True, slots=True)
class StoredState:
    """What is stored under the envelope's instanceID / deprecatedID, and the decision."""

    same: store.StoredRow | None
    deprecated: store.StoredRow | None
    outcome: Outcome


def _read_state(target: FormTarget, envelope: Envelope, draft: bool) -> StoredState:
    same = store.stored_version(target.form_id, draft, envelope.instance_id)
    deprecated = None
    if same is None and envelope.deprecated_id:
        deprecated = store.stored_version(target.form_id, draft, envelope.deprecated_id)
    return _state_of(envelope, same, deprecated)


def _state_of(
    envelope: Envelope,
    same: store.StoredRow | None,
    deprecated: store.StoredRow | None,
) -> StoredState:
    def version(row: store.StoredRow | None) -> StoredVersion | None:
        if row is None:
            return None
        return StoredVersion(row.sha256, bool(row.current), row.deleted_at is not None)

    return StoredState(
        same, deprecated, classify(envelope, version(same), version(deprecated))
    )


def _still_wanted(state: StoredState, expected: list[str]) -> list[str]:
    """Expected names worth writing to disk: a resend needs only the missing ones."""
    if state.outcome is Outcome.RESEND and expected:
        missing = store.missing_slots(state.same.id)
        return [name for name in expected if name in missing]
    return expected


def _raise_for(outcome: Outcome, envelope: Envelope) -> None:
    """Turn a refusing outcome into its Central problem."""
    if outcome is Outcome.CONFLICT:
        raise problem.xml_conflict()
    if outcome is Outcome.DELETED:
        raise problem.submission_deleted(envelope.instance_id)
    if outcome is Outcome.STALE:
        raise problem.deprecating_old_submission(
            envelope.deprecated_id or envelope.instance_id
        )
    if outcome is Outcome.UNKNOWN_DEPRECATED:
        raise problem.deprecated_id_not_found(envelope.deprecated_id or "")


def _apply(
    target: FormTarget,
    envelope: Envelope,
    xml: bytes,
    expected: list[str],
    arrived: Mapping[str, blobs.BlobInfo],
    draft: bool,
    meta: dict[str, t.Any],
    state: StoredState,
) -> IngestResult:
    outcome = state.outcome
    if outcome is Outcome.NEW:  # records the blob rows itself
        return _create(target, envelope, xml, expected, arrived, draft, meta)
    for info in arrived.values():
        store.record_blob(info.sha256, info.md5, info.size, None)
    if outcome is Outcome.RESEND:
        row = state.same
        filled = _fill(row.id, arrived)
        if filled:
            audit.log(
                "submission.attachment.update",
                "submission",
                row.submission_id,
                actor_id=meta["actor_id"],
                details={"names": list(filled)},
            )
        return IngestResult(outcome, row.submission_id, row.instance_id, filled)
    if outcome is Outcome.EDIT:
        return _edit(
            target, envelope, xml, expected, arrived, draft, meta, state.deprecated
        )
    _raise_for(outcome, envelope)
    raise AssertionError(f"unhandled outcome {outcome}")


def commune_of(target: FormTarget, envelope: Envelope) -> str | None:
    """The submission's commune code (web supervisors' scoping), from the parsed XML."""
    if not target.commune_path or envelope.encrypted:
        return None
    values = field_values(envelope.root, target.commune_path)
    return values[0][:16] if values else None


def _version(target, envelope, xml, draft, meta) -> store.NewVersion:  # type: ignore[no-untyped-def]
    return store.NewVersion(
        form_id=target.form_id,
        form_def_id=target.form_def_id,
        draft=draft,
        instance_id=envelope.instance_id,
        deprecated_id=envelope.deprecated_id,
        instance_name=envelope.instance_name,
        commune=commune_of(target, envelope),
        xml=xml,
        sha256=envelope.sha256,
        submitter_id=meta["actor_id"],
        device_id=meta["device_id"],
        user_agent=meta["user_agent"],
        now=utcnow(),
    )


def _create(target, envelope, xml, expected, arrived, draft, meta) -> IngestResult:  # type: ignore[no-untyped-def]
    submission_id, _def_id = store.create_submission(
        store.NewSubmission(
            version=_version(target, envelope, xml, draft, meta),
            slots={n: (arrived[n].sha256 if n in arrived else None) for n in expected},
            blobs=list(arrived.values()),
            job_kinds=jobs.kinds_for_version(target),
            audit_details={
                "instanceId": envelope.instance_id,
                "formDefId": target.form_def_id,
                "attachments": len(arrived),
                "expected": len(expected),
            },
        )
    )
    return IngestResult(
        Outcome.NEW, submission_id, envelope.instance_id, tuple(arrived)
    )


def _fill(def_id: int, arrived: Mapping[str, blobs.BlobInfo]) -> tuple[str, ...]:
    now = utcnow()
    return tuple(
        name
        for name, info in arrived.items()
        if store.fill_slot(def_id, name, info.sha256, now)
    )


def _edit(target, envelope, xml, expected, arrived, draft, meta, old) -> IngestResult:  # type: ignore[no-untyped-def]
    version = _version(target, envelope, xml, draft, meta)
    now = version.now
    if not store.demote_def(old.id):
        raise _Retry()
    def_id = store.insert_version(old.submission_id, version)
    previous = store.slots(old.id)
    store.insert_slots(
        def_id,
        {n: (arrived[n].sha256 if n in arrived else previous.get(n)) for n in expected},
        now,
    )
    store.mark_edited(old.submission_id, now, version.commune)
    jobs.enqueue_for_version(target, def_id)
    audit.log(
        "submission.update.version",
        "submission",
        old.submission_id,
        actor_id=meta["actor_id"],
        details={
            "instanceId": envelope.instance_id,
            "deprecatedId": envelope.deprecated_id,
        },
    )
    return IngestResult(
        Outcome.EDIT, old.submission_id, old.instance_id, tuple(arrived)
    )
