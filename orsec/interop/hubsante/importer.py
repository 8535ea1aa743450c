"""Importer of Hub Santé / CISU messages in the JSON EDXL-DE form (the Hub's default).

Registered in :data:`orsec.interop.importing.IMPORTERS` under ``"Hub Santé"``. What each use case
becomes (the envelope's main courante entry, with the raw form attached, is written for all):

* ``createCase`` (RC-EDA): a field report on the event of its shared ``caseId`` (a new event
  when the case is unknown and no event is given);
* ``emsi``: imported through the EMSI importer (:mod:`orsec.interop.emsi.importer`);
* ``reference`` (RC-REF): noted in the entry as the acknowledgement of the message it names;
* any other use case (``resourcesInfo``, ``createCaseHealth``, ``error``…): only the entry with
  the raw form, for the operators to read.
 The answer is an RC-REF acknowledgement (JSON). A use case alone (no envelope) carries
no sender, so it is refused by the inbox: only enveloped messages are imported.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _

from ..actions import Received, import_enveloped, our_sender_id
from ..edxlde.parse import parse_datetime
from ..errors import InvalidMessage
from ..importing import ImportContext, ImportOutcome
from ..secure import parse_json
from .read import read_create_case
from .serialize import MEDIA_TYPE, build_reference
from .validate import MESSAGE_POINTER, STANDARD, _dig, use_case_keys


def received_from_messages(received: Received, messages: list[dict[str, Any]]) -> Received:
    """Fill ``received`` (cases, summary) from the ``message`` objects of an envelope."""
    kinds = []
    for message in messages:
        for key in use_case_keys(message):
            kinds.append(key)
            if key == "createCase":
                received.cases.append(read_create_case(message[key]))
            elif key == "reference":
                received.notes.append(
                    _("accusé de réception du message %(id)s")
                    % {"id": str(message[key].get("distributionID", ""))[:200]}
                )
            elif key == "emsi":
                # the EMSI importer (casualties → bilan humain, resources, missions)
                received.payloads.append(
                    ("EMSI", json.dumps({"emsi": message[key]}, ensure_ascii=False).encode())
                )
    received.summary = ", ".join(kinds) + (
        " — " + "; ".join(f"{c.case_id} {c.what_label}" for c in received.cases)
        if received.cases
        else ""
    )
    if received.notes:
        received.summary += " — " + "; ".join(received.notes)
    return received


def import_hubsante(data: bytes, context: ImportContext) -> ImportOutcome:
    document = parse_json(data)
    if not (isinstance(document, dict) and "senderID" in document):
        raise InvalidMessage(
            "hubsante_envelope_required",
            _(
                "Seuls les messages Hub Santé dans leur enveloppe EDXL-DE sont importés "
                "(l'émetteur et l'identifiant de distribution sont nécessaires)."
            ),
            "/",
        )
    received = Received(
        standard=STANDARD,
        sender_id=str(document["senderID"]),
        distribution_id=str(document.get("distributionID", "")),
        status=str(document.get("distributionStatus", "")),
        expires=parse_datetime(str(document.get("dateTimeExpires", ""))),
    )
    messages = [m for m in (_dig(c, MESSAGE_POINTER) for c in document.get("content") or []) if m]
    received_from_messages(received, messages)
    scheme = str(
        _dig(document, ("descriptor", "explicitAddress", "explicitAddressScheme")) or "hubex"
    )

    def ack() -> tuple[bytes, str]:
        body = build_reference(
            original_id=received.distribution_id,
            original_sender=received.sender_id,
            status=received.status,
            sender_id=our_sender_id(),
            scheme=scheme,
        )
        return body, MEDIA_TYPE

    return import_enveloped(data, context, received, content_type=MEDIA_TYPE, build_ack=ack)
