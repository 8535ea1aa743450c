"""Importer of EDXL-DE 2.0/1.0 distributions (registered under ``EDXL-DE 2.0``/``EDXL-DE 1.0``).

The envelope's sender must be one of the partner's declared sender ids, an expired distribution
is refused, a replayed ``distributionID`` is acknowledged without importing anything (see
:func:`orsec.interop.inbox.do_import_inbound`). Hub Santé / CISU messages inside become reports
(``createCase``) or main courante entries; CAP alerts are logged in the main courante with their
headline. The answer is an EDXL-DE 2.0 ``Ack`` envelope referencing the original.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from ..cap.parse import CAP_NAMESPACES
from ..hubsante import validate as hub
from ..hubsante.importer import received_from_messages
from ..importing import ImportContext, ImportOutcome
from ..inbox import Received, do_import_inbound, our_sender_id
from ..xmlpaths import local_name, namespace_of
from .parse import parse_edxlde, read_envelope
from .serialize import build_answer
from .validate import standard_name

MEDIA_TYPE = "application/xml; charset=utf-8"


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
    alerts = []
    for item in envelope.contents:
        payload = item.payload
        if payload is None:
            continue
        namespace = namespace_of(payload.tag)
        if (
            namespace.startswith(hub.HUB_NAMESPACE_PREFIXES)
            and local_name(payload.tag) == "message"
        ):
            messages.append(hub.message_from_xml(payload))
        elif namespace.startswith(hub.HUB_NAMESPACE_PREFIXES):
            messages.append(hub.use_case_from_xml(payload))
        elif namespace in CAP_NAMESPACES:
            headline = payload.find(f".//{{{namespace}}}headline")
            identifier = payload.find(f"{{{namespace}}}identifier")
            alerts.append(
                _("alerte CAP %(id)s « %(headline)s »")
                % {
                    "id": (identifier.text or "").strip() if identifier is not None else "",
                    "headline": (headline.text or "").strip() if headline is not None else "",
                }
            )
    received_from_messages(received, messages)
    if alerts:
        received.summary = "; ".join(filter(None, [received.summary, *alerts]))
    received.summary = received.summary or _("%(count)s contenu(s)") % {
        "count": len(envelope.contents)
    }

    def ack() -> tuple[bytes, str]:
        return build_answer(envelope, sender_id=our_sender_id(), kind="Ack"), MEDIA_TYPE

    return do_import_inbound(data, context, received, content_type=MEDIA_TYPE, build_ack=ack)
