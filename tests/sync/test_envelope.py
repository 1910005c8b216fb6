"""sync.envelope: identity from instance XML, without a database."""

from __future__ import annotations

import pytest

from sync import (
    MalformedSubmissionError,
    MissingFormIdError,
    field_values,
    parse_submission,
)
from tests import factories


def test_parse_submission_reads_orx_meta():
    xml = factories.submission_xml(
        instance_id="uuid:1",
        deprecated_id="uuid:0",
        instance_name="Bản Ta Lang — 12 người",
    )
    env = parse_submission(xml)
    assert (env.form_id, env.version, env.instance_id, env.deprecated_id) == (
        "photos",
        "1",
        "uuid:1",
        "uuid:0",
    )
    assert env.instance_name == "Bản Ta Lang — 12 người"
    assert not env.encrypted and not env.generated_instance_id


@pytest.mark.parametrize(
    ("xml", "instance_id"),
    [
        (b'<data id="f"><meta><instanceID>uuid:a</instanceID></meta></data>', "uuid:a"),
        (
            b'<d:data xmlns:d="urn:x" id="f"><d:meta><d:instanceID>uuid:b</d:instanceID>'
            b"</d:meta></d:data>",
            "uuid:b",
        ),
        (b'<data id="f"><instanceID>uuid:c</instanceID></data>', "uuid:c"),
    ],
    ids=["plain-meta", "namespaced", "root-level"],
)
def test_parse_submission_is_namespace_agnostic(xml, instance_id):
    assert parse_submission(xml).instance_id == instance_id


def test_missing_instance_id_is_generated():
    env = parse_submission(b'<data id="f"><x>1</x></data>')
    assert env.generated_instance_id and env.instance_id.startswith("uuid:")


def test_missing_form_id_raises():
    with pytest.raises(MissingFormIdError):
        parse_submission(b"<data><meta><instanceID>uuid:a</instanceID></meta></data>")


@pytest.mark.parametrize(
    "xml",
    [
        b'<!DOCTYPE d [<!ENTITY e "x">]><data id="f">&e;</data>',
        b'<!DOCTYPE d SYSTEM "http://example.org/d.dtd"><data id="f"/>',
        b'<data id="f">' + b"<a>" * 100 + b"</a>" * 100 + b"</data>",
        b"",
        b'<data id="f">',
    ],
    ids=["entity", "external-dtd", "deep", "empty", "unclosed"],
)
def test_hostile_xml_raises_malformed(xml):
    with pytest.raises(MalformedSubmissionError):
        parse_submission(xml)


def test_size_bound():
    with pytest.raises(MalformedSubmissionError, match="larger"):
        parse_submission(b'<data id="f">' + b"x" * 200 + b"</data>", max_bytes=100)


def test_sha256_is_of_exact_bytes():
    a = parse_submission(b'<data id="f"><x>1</x></data>')
    b = parse_submission(b'<data id="f"><x>1</x> </data>')
    assert a.sha256 != b.sha256


def test_field_values_walks_groups_and_repeats():
    xml = (
        b'<data id="f"><g><photo>a.jpg</photo></g><r><p>1.jpg</p></r><r><p>2.jpg</p></r>'
        b"<r><p/></r></data>"
    )
    root = parse_submission(xml).root
    assert field_values(root, "/data/g/photo") == ["a.jpg"]
    assert field_values(root, "/data/r/p") == ["1.jpg", "2.jpg"]
    assert field_values(root, "/data/missing") == []


def test_encrypted_envelope_lists_parts():
    xml = (
        b'<data id="f" version="1" encrypted="yes" xmlns="http://www.opendatakit.org/xforms/encrypted">'
        b"<base64EncryptedKey>k</base64EncryptedKey>"
        b'<orx:meta xmlns:orx="http://openrosa.org/xforms"><orx:instanceID>uuid:e</orx:instanceID></orx:meta>'
        b"<media><file>1.jpg.enc</file></media><encryptedXmlFile>submission.xml.enc</encryptedXmlFile>"
        b"</data>"
    )
    env = parse_submission(xml)
    assert env.encrypted and env.instance_id == "uuid:e"
    assert env.encrypted_files() == ["1.jpg.enc", "submission.xml.enc"]
