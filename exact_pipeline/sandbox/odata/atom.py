"""Atom XML: what Exact answers when a request does not send `Accept: application/json`."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from decimal import Decimal
from typing import Any

from exact_pipeline.sandbox.odata.wire import Entry
from exact_pipeline.sandbox.schema import Edm

ATOM = "http://www.w3.org/2005/Atom"
D = "http://schemas.microsoft.com/ado/2007/08/dataservices"
M = "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"
ET.register_namespace("", ATOM)
ET.register_namespace("d", D)
ET.register_namespace("m", M)

CONTENT_TYPE = "application/atom+xml;type=feed;charset=utf-8"
ENTRY_CONTENT_TYPE = "application/atom+xml;type=entry;charset=utf-8"
ERROR_CONTENT_TYPE = "application/xml;charset=utf-8"


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _entry(entry: Entry, updated: str) -> ET.Element:
    node = ET.Element(f"{{{ATOM}}}entry")
    ET.SubElement(node, f"{{{ATOM}}}id").text = entry.uri
    ET.SubElement(node, f"{{{ATOM}}}title", type="text")
    ET.SubElement(node, f"{{{ATOM}}}updated").text = updated
    ET.SubElement(ET.SubElement(node, f"{{{ATOM}}}author"), f"{{{ATOM}}}name")
    ET.SubElement(node, f"{{{ATOM}}}link", rel="edit", href=entry.uri)
    ET.SubElement(
        node,
        f"{{{ATOM}}}category",
        term=entry.type_name,
        scheme="http://schemas.microsoft.com/ado/2007/08/dataservices/scheme",
    )
    for nav, uri in entry.deferred.items():
        ET.SubElement(
            node,
            f"{{{ATOM}}}link",
            rel=f"{D}/related/{nav}",
            type="application/atom+xml;type=feed",
            title=nav,
            href=uri,
        )
    for nav, children in entry.expanded.items():
        link = ET.SubElement(
            node, f"{{{ATOM}}}link", rel=f"{D}/related/{nav}", title=nav, href=f"{entry.uri}/{nav}"
        )
        inline = ET.SubElement(link, f"{{{M}}}inline")
        feed = ET.SubElement(inline, f"{{{ATOM}}}feed")
        for child in children:
            feed.append(_entry(child, updated))
    content = ET.SubElement(node, f"{{{ATOM}}}content", type="application/xml")
    props = ET.SubElement(content, f"{{{M}}}properties")
    for f, value in entry.values:
        prop = ET.SubElement(props, f"{{{D}}}{f.name}")
        if f.edm is not Edm.STRING:
            prop.set(f"{{{M}}}type", f.edm.edm)
        if value is None or f.edm is Edm.BINARY:
            prop.set(f"{{{M}}}null", "true")
        else:
            prop.text = _text(value)
    return node


def feed_xml(
    title: str, self_url: str, entries: list[Entry], next_url: str | None, updated: str
) -> bytes:
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}title", type="text").text = title
    ET.SubElement(feed, f"{{{ATOM}}}id").text = self_url
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = updated
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", title=title, href=self_url)
    for entry in entries:
        feed.append(_entry(entry, updated))
    if next_url:
        ET.SubElement(feed, f"{{{ATOM}}}link", rel="next", href=next_url)
    return ET.tostring(feed, xml_declaration=True, encoding="utf-8")


def entry_xml(entry: Entry, updated: str) -> bytes:
    return ET.tostring(_entry(entry, updated), xml_declaration=True, encoding="utf-8")


def error_xml(message: str) -> bytes:
    error = ET.Element(f"{{{M}}}error")
    ET.SubElement(error, f"{{{M}}}code")
    ET.SubElement(error, f"{{{M}}}message", {"xml:lang": "en-US"}).text = message
    return ET.tostring(error, xml_declaration=True, encoding="utf-8")
