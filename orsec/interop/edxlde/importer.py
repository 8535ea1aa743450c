"""Importer of EDXL-DE 2.0/1.0 distributions (registered under ``EDXL-DE 2.0``/``EDXL-DE 1.0``).

The envelope's sender must be one of the partner's declared sender ids, an expired distribution
is refused, a replayed ``distributionID`` is acknowledged without importing anything (see
:func:`orsec.interop.actions.import_enveloped`). Hub Santé / CISU messages inside become reports
(``createCase``) or main courante entries (see :mod:`orsec.interop.hubsante.importer`); CAP alerts
are imported through the CAP importer (``importer_for("CAP 1.2")``: MeteoAlarm profile →
vigilances, other alerts → main courante) and EMSI messages through the EMSI importer, in the
same transaction: if one payload is refused, nothing of the distribution is imported. The answer
is an EDXL-DE 2.0 ``Ack`` envelope referencing the original.
"""

from __future__ import annotations

import copy
from typing import Any

from django.utils.translation import gettext as _
from lxml import etree

from ..actions import Received, import_enveloped, our_sender_id
from ..cap.parse import CAP_NAMESPACES
from ..emsi.parse import VARIANT_OF_NAMESPACE as EMSI_VARIANTS
from ..hubsante import validate as hub
from ..hubsante.importer import received_from_messages
from ..importing import ImportContext, ImportOutcome
from ..xmlpaths import local_name, namespace_of
from .parse import parse_edxlde, read_envelope
from .serialize import build_answer
from .validate import standard_name

MEDIA_TYPE = "application/xml; charset=utf-8"


def payload_standard(payload: Any) -> str:
    """The standard of one embedded payload: ``CAP 1.2``/``CAP 1.1``, ``EMSI`` (Hub Santé or
    NexSIS 2015 namespace), ``Hub Santé message`` (RC-DE + use case), ``Hub Santé`` (a use case
    alone), or ``""``. EMSI is recognised before the generic Hub Santé namespaces."""
    namespace, name = namespace_of(payload.tag), local_name(payload.tag)
    if namespace in CAP_NAMESPACES and name == "alert":
        return f"CAP {CAP_NAMESPACES[namespace]}"
    if namespace in EMSI_VARIANTS and name == "emsi":
        return "EMSI"
    if namespace.startswith(hub.HUB_NAMESPACE_PREFIXES):
        return "Hub Santé message" if name == "message" else "Hub Santé"
    return ""


def _standalone(payload: Any) -> bytes:
    """The payload as a document of its own (namespaces it uses declared on its root)."""
    return bytes(etree.tostring(copy.deepcopy(payload), xml_declaration=True, encoding="UTF-8"))


def import_edxlde(data: bytes, context: ImportContext) -> ImportOutcome:
    document = parse_edxlde(data)
    envelope = read_envelope(document)
    received = Received(
        standard=standard_name(envelope.version),
        sender_id=envelope.sender_id,
        distribution_id=envelope.distribution_id,
        status=envelope.status,
        expires=envelope.expires,
    )
    messages = []
    for item in envelope.contents:
        payload = item.payload
        if payload is None:
            continue
        standard = payload_standard(payload)
        if standard == "Hub Santé message":
            messages.append(hub.message_from_xml(payload))
        elif standard == "Hub Santé":
            messages.append(hub.use_case_from_xml(payload))
        elif standard in ("CAP 1.2", "CAP 1.1", "EMSI"):
            # imported through the standard's own importer, in the envelope's transaction
            received.payloads.append((standard, _standalone(payload)))
    received_from_messages(received, messages)
    if received.payloads:
        kinds = ", ".join(standard for standard, _payload in received.payloads)
        received.summary = "; ".join(filter(None, [received.summary, kinds]))
    received.summary = received.summary or _("%(count)s contenu(s)") % {
        "count": len(envelope.contents)
    }

    def ack() -> tuple[bytes, str]:
        return build_answer(envelope, sender_id=our_sender_id(), kind="Ack"), MEDIA_TYPE

    return import_enveloped(data, context, received, content_type=MEDIA_TYPE, build_ack=ack)
