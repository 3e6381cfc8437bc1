"""documents/Documents and DocumentAttachments: base64 attachments, size limit, download."""

from __future__ import annotations

import base64
import os

from exact_pipeline_tests.sandbox.helpers import BE, NL, ExactClient


def _document(exact: ExactClient, division: int = NL) -> dict:
    account = exact.rows("crm/Accounts", division, **{"$filter": "Blocked eq false"})[0]
    return exact.created(
        "documents/Documents",
        {"Subject": "INV-1001", "Type": 10, "Account": account["ID"], "DocumentDate": "2026-11-20"},
        division,
    )


def test_attachment_round_trip(exact: ExactClient) -> None:
    document = _document(exact)
    assert document["HID"] == 1 and document["TypeDescription"] == "Verkoopfactuur"
    assert document["DocumentViewUrl"].endswith(f"DocumentID={document['ID']}&_Division_={NL}")
    content = b"%PDF-1.4 fake invoice " + os.urandom(2000)
    attachment = exact.created(
        "documents/DocumentAttachments",
        {
            "Document": document["ID"],
            "FileName": "INV-1001.pdf",
            "Attachment": base64.b64encode(content).decode(),
        },
    )
    assert attachment["FileSize"] == len(content)
    assert attachment["Attachment"] is None  # the bytes come through Url
    listed = exact.one("documents/DocumentAttachments", f"Document eq guid'{document['ID']}'")
    assert listed["Url"] == attachment["Url"]
    download = exact.http.get(listed["Url"] + "&Download=1", headers=exact.auth)
    assert download.status_code == 200 and download.content == content
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert exact.http.get(listed["Url"]).status_code == 401  # needs the bearer token


def test_attachment_must_be_base64(exact: ExactClient) -> None:
    document = _document(exact)
    reply = exact.post(
        "documents/DocumentAttachments",
        {"Document": document["ID"], "FileName": "x.pdf", "Attachment": "%PDF-1.4 raw bytes"},
    )
    assert reply.status_code == 400
    message = reply.json()["error"]["message"]["value"]
    assert message.startswith("Error processing request stream.")
    assert "converting the value" in message and "'System.Byte[]'" in message


def test_attachment_size_limit_is_configurable(exact: ExactClient) -> None:
    document = _document(exact)
    exact.configure(attachment_max_bytes=1000)
    body = {"Document": document["ID"], "FileName": "big.pdf"}
    too_big = exact.post(
        "documents/DocumentAttachments",
        body | {"Attachment": base64.b64encode(b"x" * 1001).decode()},
    )
    assert too_big.status_code == 413
    fits = exact.post(
        "documents/DocumentAttachments",
        body | {"Attachment": base64.b64encode(b"x" * 1000).decode()},
    )
    assert fits.status_code == 201


def test_document_rules(exact: ExactClient) -> None:
    missing = exact.post("documents/Documents", {"Type": 10})
    assert (
        missing.status_code == 500
        and missing.json()["error"]["message"]["value"] == "Verplicht: Onderwerp"
    )
    unknown_type = exact.post("documents/Documents", {"Subject": "x", "Type": 99})
    assert unknown_type.status_code == 500
    orphan = exact.post(
        "documents/DocumentAttachments",
        {
            "Document": "00000000-0000-0000-0000-000000000001",
            "FileName": "a.pdf",
            "Attachment": "eA==",
        },
    )
    assert orphan.json()["error"]["message"]["value"] == "Ongeldige referentie: Documents"


def test_deleting_a_document_deletes_its_attachments(exact: ExactClient) -> None:
    document = _document(exact, BE)
    exact.created(
        "documents/DocumentAttachments",
        {"Document": document["ID"], "FileName": "a.pdf", "Attachment": "eA=="},
        BE,
    )
    assert exact.delete(f"documents/Documents(guid'{document['ID']}')", BE).status_code == 204
    assert exact.store("documents/DocumentAttachments", BE) == []
    assert (
        exact.put(f"documents/DocumentAttachments(guid'{document['ID']}')", {}, BE).status_code
        == 405
    )
