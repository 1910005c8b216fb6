"""Marshmallow schemas for JSON request bodies of the REST API (inputs only).

Invalid bodies raise ``marshmallow.ValidationError``, which ``server/errors.py`` renders
as Central's 400.8 with the field messages in ``details``. Unknown keys are ignored,
as Central ignores them.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from server.models import FORM_STATES

# The review states a client may set (Central's null/"received" is the absence of one).
REVIEW_STATES_SETTABLE = ("hasIssues", "edited", "approved", "rejected")


def _name() -> fields.String:
    return fields.String(required=True, validate=validate.Length(min=1, max=255))


class _Body(Schema):
    class Meta:
        unknown = EXCLUDE


class ProjectCreate(_Body):
    """POST /projects."""

    name = _name()
    description = fields.String(load_default=None, allow_none=True)


class AppUserCreate(_Body):
    """POST /projects/{p}/app-users."""

    displayName = _name()


class FormUpdate(_Body):
    """PATCH /projects/{p}/forms/{f}."""

    state = fields.String(required=True, validate=validate.OneOf(FORM_STATES))


class SubmissionUpdate(_Body):
    """PATCH /projects/{p}/forms/{f}/submissions/{i}."""

    reviewState = fields.String(
        required=True, validate=validate.OneOf(REVIEW_STATES_SETTABLE)
    )


class CommentCreate(_Body):
    """POST …/submissions/{i}/comments."""

    body = fields.String(required=True, validate=validate.Length(min=1))
