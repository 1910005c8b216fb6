"""Every OpenRosa XML envelope and header the server sends (Central's formats/openrosa)."""

from __future__ import annotations

import typing as t
from email.utils import formatdate
from xml.sax.saxutils import escape

from flask import Response, current_app

XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'
TEXT_XML = "text/xml; charset=utf-8"


def openrosa_headers(response: Response) -> Response:
    """Add the headers Collect checks on every OpenRosa response (reference section 1)."""
    response.headers["X-OpenRosa-Version"] = "1.0"
    response.headers["X-OpenRosa-Accept-Content-Length"] = str(
        current_app.config["MAX_SUBMISSION_BYTES"]
    )
    response.headers["Date"] = formatdate(usegmt=True)
    response.headers.setdefault("Content-Language", "en")
    return response


def message(text: str, nature: str = "", status: int = 201) -> Response:
    """An ``<OpenRosaResponse>`` with one message (success nature "" or "error")."""
    body = (
        f'{XML_HEADER}<OpenRosaResponse xmlns="http://openrosa.org/http/response" items="0">'
        f'<message nature="{escape(nature)}">{escape(text)}</message></OpenRosaResponse>'
    )
    return openrosa_headers(Response(body, status=status, content_type=TEXT_XML))


def form_list(forms: t.Iterable[dict[str, t.Any]]) -> str:
    """formList body; each form: form_id, name, version, md5, download_url, manifest_url."""
    parts = [XML_HEADER, '<xforms xmlns="http://openrosa.org/xforms/xformsList">']
    for form in forms:
        parts.append(
            "<xform>"
            f"<formID>{escape(form['form_id'])}</formID>"
            f"<name>{escape(form['name'] or form['form_id'])}</name>"
            f"<version>{escape(form['version'] or '')}</version>"
            f"<hash>md5:{form['md5']}</hash>"
            f"<downloadUrl>{escape(form['download_url'])}</downloadUrl>"
        )
        if form.get("manifest_url"):
            parts.append(f"<manifestUrl>{escape(form['manifest_url'])}</manifestUrl>")
        parts.append("</xform>")
    parts.append("</xforms>")
    return "".join(parts)


def manifest(files: t.Iterable[dict[str, t.Any]]) -> str:
    """Manifest body; each file: name, md5, download_url, optional type/integrity_url."""
    parts = [XML_HEADER, '<manifest xmlns="http://openrosa.org/xforms/xformsManifest">']
    for item in files:
        kind = f' type="{escape(item["type"])}"' if item.get("type") else ""
        parts.append(
            f"<mediaFile{kind}><filename>{escape(item['name'])}</filename>"
            f"<hash>md5:{item['md5']}</hash>"
            f"<downloadUrl>{escape(item['download_url'])}</downloadUrl>"
        )
        if item.get("integrity_url"):
            parts.append(
                f"<integrityUrl>{escape(item['integrity_url'])}</integrityUrl>"
            )
        parts.append("</mediaFile>")
    parts.append("</manifest>")
    return "".join(parts)
