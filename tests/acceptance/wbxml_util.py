"""Tiny helpers to build EAS WBXML bodies in tests (through pyactivesync's own writer, an
independent implementation from ours)."""
from __future__ import annotations

from pyactivesync._wbxml import WBXMLReader, WBXMLWriter, wtag  # noqa: F401


def folder_sync(key: str = "0") -> bytes:
    w = WBXMLWriter()
    w.tag("FolderHierarchy", "FolderSync", children=[wtag("FolderHierarchy", "SyncKey", text=key)])
    return w.render()
