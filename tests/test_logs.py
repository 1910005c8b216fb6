"""Request logs never carry app-user or draft tokens."""

from __future__ import annotations

import logging

from server.logs import RedactTokens, redact


def test_redact_key_and_draft_tokens():
    line = '"GET /v1/key/AbC!$123/projects/1/formList HTTP/1.1" 200 -'
    assert redact(line) == '"GET /v1/key/***/projects/1/formList HTTP/1.1" 200 -'
    assert "SECRET" not in redact("/v1/test/SECRET/projects/1/forms/f/draft/formList")
    assert redact("/v1/projects/1/formList") == "/v1/projects/1/formList"


def test_filter_rewrites_record_args():
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '%s "%s" %s',
        ("127.0.0.1", "GET /v1/key/TOKEN123/projects/1/submission", "201"),
        None,
    )
    RedactTokens().filter(record)
    assert "TOKEN123" not in record.getMessage()
