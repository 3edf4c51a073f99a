"""Provenance: an XMP packet in every result saying which AI steps touched it, with which models.

Archivists and genealogists need to tell a restored scan from the original
years later, without our database. So each output carries, in the standard
places readers look (exiftool, Adobe Bridge, digiKam):

- `xmpMM:History`: one `stEvt` event per run (action "processed", the software
  agent, the date and the stages as parameters), appended to any history the
  input already had;
- IPTC's `Iptc4xmpExt:DigitalSourceType` = "compositeWithTrainedAlgorithmicMedia",
  the IPTC term for media edited by trained algorithms;
- our own namespace (`restorer:`), with the recipe's hash, and per stage its
  settings (JSON) and each model's id and SHA-256;
- `xmp:ModifyDate` / `xmp:MetadataDate`, and `xmp:CreatorTool` only when the
  input named none (it records the first tool that made the resource).

A packet the input already had (its title, rights, keywords, history) is kept:
its descriptions are carried over whole and ours is added beside them; IPTC
IIM fields (JPEG APP13, TIFF tag 33723) are mirrored into XMP's IPTC Core
properties where the input's XMP lacks them, so formats that have no IIM block
(PNG, WebP) lose nothing.

Packets are parsed with defusedxml: they come from files of unknown origin.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone

NS = {
    "x": "adobe:ns:meta/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
    "stEvt": "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "restorer": "http://ns.restorer-app.org/provenance/1.0/",
    "tiff": "http://ns.adobe.com/tiff/1.0/",
    "exif": "http://ns.adobe.com/exif/1.0/",
}
for _prefix, _uri in NS.items():
    ET.register_namespace(_prefix, _uri)

DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
_PACKET_HEAD = '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
_PACKET_TAIL = '\n<?xpacket end="w"?>'


def _q(name: str) -> str:
    """'dc:title' -> '{http://purl.org/dc/elements/1.1/}title'."""
    prefix, local = name.split(":")
    return f"{{{NS[prefix]}}}{local}"


@dataclass(frozen=True)
class ModelUse:
    """A network a stage ran: catalog id and the SHA-256 of its weights."""

    model_id: str
    sha256: str


@dataclass(frozen=True)
class StageRecord:
    """One stage applied: its id, its settings as a JSON object, the models it ran and its note."""

    stage: str
    settings: dict
    models: tuple[ModelUse, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Provenance:
    """What one run did to a photo."""

    software: str
    stages: tuple[StageRecord, ...]
    recipe_hash: str = ""
    engine: str = ""
    when: str = field(default_factory=lambda: datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"))

    def parameters(self) -> str:
        """The stages as one human-readable line (stEvt:parameters)."""
        return "; ".join(f"{s.stage}({', '.join(f'{k}={v}' for k, v in s.settings.items() if v not in ('', ()))})"
                         for s in self.stages)


# --- reading ----------------------------------------------------------------------------


def parse_packet(packet: bytes | str | None) -> ET.Element | None:
    """The rdf:RDF element of an XMP packet, or None when there is none or it is not valid XML."""
    from defusedxml import ElementTree as SafeET
    from defusedxml.common import DefusedXmlException

    if not packet:
        return None
    text = packet.decode("utf-8", "replace") if isinstance(packet, bytes) else packet
    start, end = text.find("<x:xmpmeta"), text.rfind("</x:xmpmeta>")
    if start < 0 or end < 0:
        start, end = text.find("<rdf:RDF"), text.rfind("</rdf:RDF>")
        if start < 0 or end < 0:
            return None
        body = text[start : end + len("</rdf:RDF>")]
    else:
        body = text[start : end + len("</x:xmpmeta>")]
    try:
        root = SafeET.fromstring(body)
    except (ET.ParseError, DefusedXmlException, ValueError):
        return None
    return root if root.tag == _q("rdf:RDF") else root.find(_q("rdf:RDF"))


def _lang_alt_text(description: ET.Element, name: str) -> str | None:
    element = description.find(_q(name))
    if element is None:
        return description.get(_q(name))
    item = element.find(f"{_q('rdf:Alt')}/{_q('rdf:li')}")
    return item.text if item is not None else element.text


def read_title(packet: bytes | str | None) -> str | None:
    """dc:title of a packet (its default language), or None."""
    rdf = parse_packet(packet)
    if rdf is None:
        return None
    for description in rdf.findall(_q("rdf:Description")):
        title = _lang_alt_text(description, "dc:title")
        if title:
            return title
    return None


def read_provenance(packet: bytes | str | None) -> list[dict]:
    """Every Restorer run recorded in a packet, oldest first: {software, when, recipe_hash, engine, stages}."""
    rdf = parse_packet(packet)
    if rdf is None:
        return []
    return [_read_run(run) for runs in rdf.iter(_q("restorer:Runs"))
            for run in runs.findall(f"{_q('rdf:Seq')}/{_q('rdf:li')}")]


def _read_run(run: ET.Element) -> dict:
    stages = []
    for item in run.findall(f"{_q('restorer:stages')}/{_q('rdf:Seq')}/{_q('rdf:li')}"):
        models = [{"id": m.findtext(_q("restorer:modelId")), "sha256": m.findtext(_q("restorer:sha256"))}
                  for m in item.findall(f"{_q('restorer:models')}/{_q('rdf:Bag')}/{_q('rdf:li')}")]
        settings_text = item.findtext(_q("restorer:settings")) or "{}"
        try:
            settings = json.loads(settings_text)
        except json.JSONDecodeError:
            settings = {"raw": settings_text}
        stages.append({"stage": item.findtext(_q("restorer:stage")), "settings": settings, "models": models,
                       "note": item.findtext(_q("restorer:note")) or ""})
    return {"software": run.findtext(_q("restorer:software")), "when": run.findtext(_q("restorer:when")),
            "recipe_hash": run.findtext(_q("restorer:recipeHash")), "engine": run.findtext(_q("restorer:engine")),
            "stages": stages}


# --- IPTC IIM ---------------------------------------------------------------------------

# IIM dataset (record 2) -> the IPTC Core property that carries it in XMP, and whether it repeats.
_IIM_TO_XMP = {5: ("dc:title", "alt"), 120: ("dc:description", "alt"), 25: ("dc:subject", "bag"),
               80: ("dc:creator", "seq"), 116: ("dc:rights", "alt"), 55: ("photoshop:DateCreated", "text"),
               90: ("photoshop:City", "text"), 101: ("photoshop:Country", "text"),
               110: ("photoshop:Credit", "text"), 115: ("photoshop:Source", "text")}


# A PNG's text keywords (and a JPEG's comment, read as "Comment") -> the IIM dataset whose IPTC Core
# property carries the same thing, so photo managers that read XMP (digiKam, Lightroom) show them.
_CAPTION_TO_IIM = {"Title": 5, "Description": 120, "Comment": 120, "Author": 80, "Copyright": 116}


# Comments that software writes about itself ("CREATOR: gd-jpeg v1.0 ...", "Created with GIMP",
# "Created by OpenJPEG version 2.5"): kept in the file, but no description of the photo.
_SOFTWARE_COMMENT = re.compile(r"^\s*(CREATOR:|Created (with|by)\b|File written by|LEAD Technologies|"
                               r"Intel\(R\) JPEG|Optimized (by|with)\b|Compressed (by|with)\b|Processed (by|with)\b|"
                               r"AppleMark|Handmade Software|Ducky|JPEG Encoder|Lavc|ImageMagick|XV version)", re.I)


def captions_as_iim(captions) -> dict[int, list[str]]:
    """(keyword, text) captions as IIM-style fields for _add_iim; the first caption for a field wins.

    A comment that is a program's signature rather than words about the photo is left out.
    """
    fields: dict[int, list[str]] = {}
    for keyword, text in captions:
        dataset = _CAPTION_TO_IIM.get(keyword)
        if keyword == "Comment" and _SOFTWARE_COMMENT.match(text):
            continue
        if dataset is not None and text.strip() and dataset not in fields:
            fields[dataset] = [text.strip()]
    return fields


def parse_iim(data: bytes | None) -> dict[int, list[str]]:
    """Record-2 datasets of an IPTC IIM block ({dataset: [values]}); bad bytes end the walk, never raise."""
    out: dict[int, list[str]] = {}
    if not data:
        return out
    start = data.find(b"8BIM\x04\x04")  # inside a Photoshop APP13 resource block
    if start >= 0:
        pos = start + 6
        name_len = data[pos] if pos < len(data) else 0
        pos += 1 + name_len + ((1 + name_len) % 2)
        size = int.from_bytes(data[pos : pos + 4], "big")
        data = data[pos + 4 : pos + 4 + size]
    pos = 0
    while pos + 5 <= len(data) and data[pos] == 0x1C:
        record, dataset, size = data[pos + 1], data[pos + 2], int.from_bytes(data[pos + 3 : pos + 5], "big")
        if size & 0x8000:  # extended length: not used by text fields; stop rather than misread
            break
        value = data[pos + 5 : pos + 5 + size]
        pos += 5 + size
        if record == 2 and dataset in _IIM_TO_XMP:
            out.setdefault(dataset, []).append(value.decode("utf-8", "replace").strip("\x00 "))
    return out


# --- writing ----------------------------------------------------------------------------


def _sub(parent: ET.Element, name: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, _q(name), {(_q(k.replace("_", ":", 1)) if "_" in k else k): v
                                              for k, v in attrs.items()})
    if text is not None:
        element.text = text
    return element


def _has_property(rdf: ET.Element, name: str) -> bool:
    return any(d.find(_q(name)) is not None or d.get(_q(name)) is not None for d in rdf.findall(_q("rdf:Description")))


def _add_iim(description: ET.Element, rdf: ET.Element, iim: dict[int, list[str]]) -> None:
    """IPTC Core properties from IIM fields the existing XMP does not already hold."""
    for dataset, values in iim.items():
        name, kind = _IIM_TO_XMP[dataset]
        if not values or _has_property(rdf, name):
            continue
        element = _sub(description, name)
        if kind == "text":
            element.text = values[0]
            continue
        container = _sub(element, {"alt": "rdf:Alt", "bag": "rdf:Bag", "seq": "rdf:Seq"}[kind])
        for value in values[:1] if kind == "alt" else values:
            item = _sub(container, "rdf:li", value)
            if kind == "alt":
                item.set("{http://www.w3.org/XML/1998/namespace}lang", "x-default")


def _append_history(rdf: ET.Element, description: ET.Element, provenance: Provenance) -> None:
    """Add this run to xmpMM:History, in the input's own list where it has one."""
    sequence = None
    for existing in rdf.findall(_q("rdf:Description")):
        history = existing.find(_q("xmpMM:History"))
        if history is not None:
            sequence = history.find(_q("rdf:Seq"))
            if sequence is None:
                sequence = _sub(history, "rdf:Seq")
            break
    if sequence is None:
        sequence = _sub(_sub(description, "xmpMM:History"), "rdf:Seq")
    event = _sub(sequence, "rdf:li", rdf_parseType="Resource")
    _sub(event, "stEvt:action", "processed")
    _sub(event, "stEvt:softwareAgent", provenance.software)
    _sub(event, "stEvt:when", provenance.when)
    _sub(event, "stEvt:parameters", provenance.parameters())
    _sub(event, "stEvt:changed", "/")


def _add_run(rdf: ET.Element, description: ET.Element, provenance: Provenance) -> None:
    """Our own record of the run, appended to the runs the input already carried."""
    sequence = None
    for existing in rdf.findall(_q("rdf:Description")):
        runs = existing.find(_q("restorer:Runs"))
        if runs is not None:
            sequence = runs.find(_q("rdf:Seq"))
            break
    if sequence is None:
        sequence = _sub(_sub(description, "restorer:Runs"), "rdf:Seq")
    run = _sub(sequence, "rdf:li", rdf_parseType="Resource")
    _sub(run, "restorer:software", provenance.software)
    _sub(run, "restorer:when", provenance.when)
    _sub(run, "restorer:recipeHash", provenance.recipe_hash)
    _sub(run, "restorer:engine", provenance.engine)
    stages = _sub(_sub(run, "restorer:stages"), "rdf:Seq")
    for record in provenance.stages:
        stage = _sub(stages, "rdf:li", rdf_parseType="Resource")
        _sub(stage, "restorer:stage", record.stage)
        _sub(stage, "restorer:settings", json.dumps(record.settings, sort_keys=True))
        if record.note:
            _sub(stage, "restorer:note", record.note)
        if record.models:
            models = _sub(_sub(stage, "restorer:models"), "rdf:Bag")
            for use in record.models:
                model = _sub(models, "rdf:li", rdf_parseType="Resource")
                _sub(model, "restorer:modelId", use.model_id)
                _sub(model, "restorer:sha256", use.sha256)


# What a packet may say about the pixels' geometry (Lightroom and Photoshop copy EXIF's into XMP). Our
# results are upright and often enlarged: a stale tiff:Orientation would turn them again in software
# that reads XMP before EXIF, and stale sizes would report the scan's.
_GEOMETRY = ("tiff:Orientation", "tiff:ImageWidth", "tiff:ImageLength", "exif:PixelXDimension",
             "exif:PixelYDimension")


def with_geometry(packet: bytes | None, width: int, height: int) -> bytes | None:
    """`packet` saying upright and `width` x `height` wherever it states an orientation or a size.

    A packet that states neither (or is not valid XML) comes back byte for byte.
    """
    rdf = parse_packet(packet)
    if rdf is None:
        return packet
    values = dict(zip(_GEOMETRY, ("1", str(width), str(height), str(width), str(height))))
    changed = False
    for description in rdf.findall(_q("rdf:Description")):
        for name, value in values.items():
            if description.get(_q(name)) not in (None, value):
                description.set(_q(name), value)
                changed = True
            for element in description.findall(_q(name)):
                if (element.text or "").strip() != value:
                    element.text = value
                    changed = True
    return _serialize(rdf) if changed else packet


def _serialize(rdf: ET.Element) -> bytes:
    """A complete XMP packet (UTF-8) around `rdf`."""
    meta = ET.Element(_q("x:xmpmeta"))
    meta.append(rdf)
    ET.indent(meta, space=" ")
    return (_PACKET_HEAD + ET.tostring(meta, encoding="unicode") + _PACKET_TAIL).encode("utf-8")


def build_packet(provenance: Provenance, existing: bytes | str | None = None, iim: bytes | None = None,
                 captions=()) -> bytes:
    """A complete XMP packet (UTF-8): `existing`'s content kept, IIM and captions ((keyword, text): PNG
    text chunks, a JPEG comment) mirrored where it lacks them, this run added."""
    rdf = parse_packet(existing)
    meta = ET.Element(_q("x:xmpmeta"))
    if rdf is None:
        rdf = ET.SubElement(meta, _q("rdf:RDF"))
    else:
        meta.append(rdf)
    had_creator = _has_property(rdf, "xmp:CreatorTool")
    old_dates = [d for d in rdf.findall(_q("rdf:Description"))]
    for description in old_dates:  # the dates are ours to set now; stale copies would contradict them
        for name in ("xmp:ModifyDate", "xmp:MetadataDate", "Iptc4xmpExt:DigitalSourceType"):
            for element in description.findall(_q(name)):
                description.remove(element)
            description.attrib.pop(_q(name), None)
    description = ET.SubElement(rdf, _q("rdf:Description"), {_q("rdf:about"): ""})
    if not had_creator:
        _sub(description, "xmp:CreatorTool", provenance.software)
    _sub(description, "xmp:ModifyDate", provenance.when)
    _sub(description, "xmp:MetadataDate", provenance.when)
    _sub(description, "Iptc4xmpExt:DigitalSourceType", DIGITAL_SOURCE_TYPE)
    _add_iim(description, rdf, {**captions_as_iim(captions), **parse_iim(iim)})  # IIM wins: it is the archive's
    _append_history(rdf, description, provenance)
    _add_run(rdf, description, provenance)
    ET.indent(meta, space=" ")
    body = ET.tostring(meta, encoding="unicode")
    return (_PACKET_HEAD + body + _PACKET_TAIL).encode("utf-8")
