"""Tiny helpers to build EAS WBXML bodies in tests (through pyactivesync's own writer, an
independent implementation from ours)."""
from __future__ import annotations

import re
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from pyactivesync._wbxml import WBXMLReader, WBXMLWriter, wtag  # noqa: F401


def folder_sync(key: str = "0") -> bytes:
    w = WBXMLWriter()
    w.tag("FolderHierarchy", "FolderSync", children=[wtag("FolderHierarchy", "SyncKey", text=key)])
    return w.render()


# ----- libwbxml as the codec for what pyactivesync can't write or name ---------------------

DOCTYPE = '<?xml version="1.0"?>\n<!DOCTYPE ActiveSync PUBLIC "-//MICROSOFT//DTD ActiveSync//EN" "http://www.microsoft.com/">\n'


def lib_encode(xml: str) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        src, out = Path(d) / "in.xml", Path(d) / "out.wbxml"
        src.write_text(DOCTYPE + xml)
        subprocess.run(["xml2wbxml", "-a", "-n", "-v", "1.3", "-o", str(out), str(src)], check=True, capture_output=True)
        return out.read_bytes()


def lib_decode(wbxml: bytes) -> ET.Element:
    """The response as an element tree, namespaces dropped (tags are libwbxml's names)."""
    with tempfile.TemporaryDirectory() as d:
        src, out = Path(d) / "in.wbxml", Path(d) / "out.xml"
        src.write_bytes(wbxml)
        subprocess.run(["wbxml2xml", "-m", "0", "-l", "ACTIVESYNC", "-o", str(out), str(src)], check=True, capture_output=True)
        text = re.sub(r"<!DOCTYPE[^>]*>", "", out.read_text())
    root = ET.fromstring(text)
    for e in root.iter():
        e.tag = e.tag.split("}")[-1]
    return root
