"""Problem: one error type with Central's decimal codes; HTTP status = floor(code)."""

from __future__ import annotations

import typing as t


class Problem(Exception):
    """An error the client should see, with a Central-compatible ``code``."""

    def __init__(self, code: float, message: str, details: t.Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    @property
    def status(self) -> int:
        """HTTP status: the integer part of the code (409.1 -> 409)."""
        return int(self.code)

    def as_json(self) -> dict[str, t.Any]:
        """Central's flat error body."""
        body: dict[str, t.Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


# The catalogue: every client-facing message lives here.
def unparseable(fmt: str, reason: str = "") -> Problem:
    return Problem(400.1, f"Could not parse the given data as {fmt}. {reason}".strip())


def missing_parameter(field: str) -> Problem:
    return Problem(400.2, f"Required parameter {field} missing.", {"field": field})


def invalid_header(field: str, value: str | None) -> Problem:
    got = "[nothing]" if value is None else value
    return Problem(
        400.6,
        f"An expected header field ({field}) did not match the expected format (got: {got}).",
        {"field": field, "value": value},
    )


def missing_multipart_field(field: str) -> Problem:
    return Problem(
        400.7, f"Required multipart POST field {field} missing.", {"field": field}
    )


def unexpected_value(field: str, reason: str) -> Problem:
    return Problem(400.8, f"Unexpected {field} value; {reason}", {"field": field})


def xlsform_invalid(error: str, warnings: list[str] | None = None) -> Problem:
    return Problem(
        400.15,
        "The given XLSForm file was not valid. Please see the error details.",
        {"error": error, "warnings": warnings or []},
    )


def form_warnings(warnings: list[str]) -> Problem:
    return Problem(
        400.16,
        "The form is valid, but with warnings. Check them and resubmit with "
        "?ignoreWarnings=true if they are acceptable.",
        {"warnings": {"xlsFormWarnings": warnings}},
    )


def expected_deprecation() -> Problem:
    return Problem(
        400.19,
        "This PUT expects a deprecatedID pointing at the current version's instanceID.",
    )


def bad_multipart(reason: str) -> Problem:
    return Problem(400.39, f"The multipart body could not be read: {reason}")


def authentication_failed() -> Problem:
    return Problem(401.2, "Could not authenticate with the provided credentials.")


def https_only() -> Problem:
    return Problem(401.3, "This authentication method is only available over HTTPS.")


def authentication_required() -> Problem:
    return Problem(401.4, "This resource requires authentication.")


def insufficient_rights() -> Problem:
    return Problem(
        403.1,
        "The authentication you provided does not have rights to perform that action.",
    )


def not_found() -> Problem:
    return Problem(404.1, "Could not find the resource you were looking for.")


def failed_draft_access() -> Problem:
    return Problem(
        404.4,
        "You tried to access a draft testing endpoint, but it does not exist anymore or "
        "your access is no longer valid.",
    )


def deprecated_id_not_found(deprecated_id: str) -> Problem:
    return Problem(
        404.5,
        "You tried to update an existing submission, but it cannot be found "
        f"({deprecated_id}).",
        {"deprecatedId": deprecated_id},
    )


def form_version_not_found(version: str) -> Problem:
    return Problem(
        404.6,
        f"The form version specified in this submission '{version}' does not exist.",
        {"formVersion": version},
    )


def too_large(limit: int) -> Problem:
    return Problem(
        413.1,
        f"The submission is larger than this server accepts ({limit} bytes). "
        "Send the attachments in smaller parts or ask an administrator to raise the limit.",
        {"limit": limit},
    )


def xml_conflict() -> Problem:
    return Problem(
        409.1,
        "A submission already exists with this ID, but with different XML. "
        "Resubmissions that add attachments must resend an identical xml_submission_file.",
    )


def not_accepting_submissions() -> Problem:
    return Problem(
        409.2,
        "This form is not currently accepting submissions. Please talk to your "
        "program staff if this is unexpected.",
    )


def uniqueness_violation(fields: str, values: str) -> Problem:
    return Problem(
        409.3,
        f"A resource already exists with {fields} value(s) of {values}.",
        {"fields": fields, "values": values},
    )


def version_conflict(xml_form_id: str, version: str) -> Problem:
    return Problem(
        409.6,
        f"You tried to publish the form '{xml_form_id}' with version '{version}', but a "
        "published form already exists with those identifiers. Choose a new version.",
        {"xmlFormId": xml_form_id, "version": version},
    )


def instance_id_conflict() -> Problem:
    return Problem(
        409.8,
        "You tried to update a submission, but the instanceID you provided already "
        "exists on this server. Please try again with a unique instanceID.",
    )


def deprecating_old_submission(deprecated_id: str) -> Problem:
    return Problem(
        409.9,
        f"You tried to update a submission, but the copy you were editing ({deprecated_id}) "
        "is now out of date. Get the new version and make your edits again.",
        {"deprecatedId": deprecated_id},
    )


def submission_deleted(instance_id: str) -> Problem:
    return Problem(
        409.18,
        "This submission has been deleted. You may not resubmit it.",
        {"instanceId": instance_id},
    )


def internal_error() -> Problem:
    return Problem(
        500.1, "An unknown internal problem has occurred. Please try again later."
    )


# REST API (server/api/*): appended for the Central REST subset.
def unexpected_attribute(field: str) -> Problem:
    return Problem(
        400.4, f"Passed parameter {field} was not expected.", {"field": field}
    )


def unparseable_odata(reason: str) -> Problem:
    return Problem(
        400.18,
        f"The OData filter expression you provided could not be parsed: {reason}",
        {"reason": reason},
    )


def no_published_version() -> Problem:
    return Problem(
        409.7,
        "Could not delete draft, because the form has not been published. Either delete "
        "the whole form, or replace the draft.",
    )


def not_implemented(feature: str) -> Problem:
    return Problem(
        501.1,
        f"The requested feature {feature} is not supported by this server.",
        {"feature": feature},
    )


def unsupported_odata_expression(at: int, text: str) -> Problem:
    return Problem(
        501.4,
        "The given OData filter expression uses features not supported by this server: "
        f"{text!r} at {at}",
        {"at": at, "text": text},
    )


def unsupported_odata_field(at: int, text: str) -> Problem:
    return Problem(
        501.5,
        "The given OData filter expression references fields not supported by this "
        f"server: {text} at {at}",
        {"at": at, "text": text},
    )


def property_not_found(name: str) -> Problem:
    return Problem(
        400.23, f"Could not find a property named '{name}'", {"property": name}
    )


# Coverage maps and indicators (server/api/coverage.py, server/geo_cli.py).
def invalid_period(value: str) -> Problem:
    return Problem(
        400.8,
        f"Unexpected period value; use a year (2026), a quarter (2026-Q3) or a month "
        f"(2026-07), not {value!r}.",
        {"field": "period", "value": value},
    )


def boundary_set_not_found(name: str) -> Problem:
    return Problem(
        404.1,
        f"Could not find the boundary set {name!r}. GET /v1/boundary-sets lists them.",
        {"boundarySet": name},
    )


# Entities (server/entities/, server/api/entities.py): Central's codes and messages.
def invalid_data_type(field: str, expected: str) -> Problem:
    return Problem(
        400.11,
        f"Invalid input data type: expected ({field}) to be ({expected})",
        {"field": field, "expected": expected},
    )


def invalid_entity_form(reason: str) -> Problem:
    return Problem(
        400.25, f"The entity definition within the form is invalid. {reason}"
    )


def invalid_entity(reason: str) -> Problem:
    return Problem(400.28, f"The entity is invalid. {reason}", {"reason": reason})


def unexpected_attributes(expected: list[str], actual: list[str]) -> Problem:
    return Problem(
        400.31,
        f"Expected parameters: ({', '.join(expected)}). Got ({', '.join(actual)}).",
        {"expected": expected, "actual": actual},
    )


def no_conflict_entity() -> Problem:
    return Problem(400.32, "The Entity doesn't have any conflict")


def entity_action_not_permitted(action: str, permitted: list[str]) -> Problem:
    return Problem(
        403.2,
        f"The submission attempts an entity {action}, but the form does not permit "
        f"that action. The form permits the following actions: {', '.join(permitted)}.",
        {"action": action, "permitted": permitted},
    )


def dataset_not_found(name: str) -> Problem:
    return Problem(
        404.7,
        f"The dataset ({name}) specified in the submission does not exist.",
        {"datasetName": name},
    )


def entity_not_found(uuid: str, dataset: str) -> Problem:
    return Problem(
        404.8,
        f"The entity with UUID ({uuid}) specified in the submission does not exist "
        f"in the dataset ({dataset}).",
        {"entityUuid": uuid, "datasetName": dataset},
    )


def entity_version_not_found(base_version: str, uuid: str, dataset: str) -> Problem:
    return Problem(
        404.9,
        f"Base version ({base_version}) does not exist for entity UUID ({uuid}) in "
        f"dataset ({dataset}).",
        {"baseVersion": base_version, "entityUuid": uuid, "datasetName": dataset},
    )


def entity_deleted(uuid: str) -> Problem:
    return Problem(
        404.11,
        f"The entity with UUID ({uuid}) has been deleted.",
        {"entityUuid": uuid},
    )


def entity_version_conflict(current: str, provided: str | None) -> Problem:
    return Problem(
        409.15,
        f"Current version of the Entity is '{current}' and you provided '{provided}'. "
        "Please correct the version number or pass '?force=true' in the URL to "
        "forcefully update the Entity.",
        {"current": current, "provided": provided},
    )


def entity_uuid_deleted(uuids: list[str]) -> Problem:
    return Problem(
        409.19,
        "The following UUID(s) cannot be used because they are associated with "
        f"deleted Entities: ({', '.join(uuids)}).",
        {"entityUuids": uuids},
    )


# Duplicate review (server/dedup/, server/api/duplicates.py). 409.30+ are this
# server's own codes (Central has no duplicate review).
def submission_not_found(instance_id: str) -> Problem:
    return Problem(
        404.1,
        f"Could not find the submission {instance_id!r} in this project.",
        {"instanceId": instance_id},
    )


def dedup_primary_is_duplicate(instance_id: str, of: str, decision: int) -> Problem:
    return Problem(
        409.30,
        f"The primary {instance_id!r} is itself marked as a duplicate of {of!r} "
        f"(decision {decision}). Choose {of!r} as the primary, or undo that decision.",
        {"instanceId": instance_id, "duplicateOf": of, "decisionId": decision},
    )


def dedup_member_is_duplicate(instance_id: str, of: str, decision: int) -> Problem:
    return Problem(
        409.30,
        f"{instance_id!r} is already marked as a duplicate of {of!r} "
        f"(decision {decision}). Undo that decision first.",
        {"instanceId": instance_id, "duplicateOf": of, "decisionId": decision},
    )


def dedup_marked_different(a: str, b: str, decision: int) -> Problem:
    return Problem(
        409.30,
        f"{a!r} and {b!r} were marked as not duplicates (decision {decision}). "
        "Undo that decision first.",
        {"instanceIds": [a, b], "decisionId": decision},
    )


def dedup_marked_same(a: str, b: str, decision: int) -> Problem:
    return Problem(
        409.30,
        f"{a!r} and {b!r} are marked as the same record (decision {decision}). "
        "Undo that decision first.",
        {"instanceIds": [a, b], "decisionId": decision},
    )


def dedup_already_decided() -> Problem:
    return Problem(409.30, "These submissions are already decided that way.")


def dedup_already_undone(decision: int) -> Problem:
    return Problem(
        409.31,
        f"Decision {decision} has already been undone.",
        {"decisionId": decision},
    )
