"""Import of an EMSI message into the core loop (``IMPORTERS["EMSI"]``).

What one message writes, in one transaction (nothing at all if any step is refused):

* **event** — onto ``context.event`` when the caller names one (its mode must be the message's
  mode); else onto the event a previous EMSI message of the same sender and EVENT.ID was
  imported into (if the actor still sees it); else a new event opened by
  :func:`orsec.events.actions.do_open_event` on the actor's first watch territory, with the
  message's mode (ACTUAL → réel, EXERCS → exercice, TEST/SYSTEM → test), EVENT.NAME as title,
  ETYPE.CATEGORY mapped to an event type and the first EGEO position as location;
* an **incoming message** journal entry (kind ``incoming``) summarising the message, its data
  carrying the EMSI ids (``emsi_id``, ``emsi_event_id``, ``emsi_origin``) used for replays;
* **casualties → bilan humain**: a field report of template ``casualties`` (state *brute*, to
  be qualified like any report) with TRIAGEBLACK → décédés, TRIAGERED → urgences absolues,
  TRIAGEYELLOW → urgences relatives, TRIAGEGREEN → impliqués, MISSING → disparus, summed over
  the CASUALTIES blocks that are not predictions (PRED_URGENT/PRED_MEDIUM are ignored), and
  EVAC EVACUATED → évacués, DISPLACED → hébergés;
* **resources** and **missions**: one journal entry each (kind ``information`` / ``action``)
  listing them, one line per resource or mission.

A message already imported (same sender ORG_ID and CONTEXT.ID) is a replay: nothing written,
``replay=True``. Messages classified SECRET or TOPSRT are refused: the portal is not
accredited for classified information.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orsec.audit.actions import record_audit
from orsec.events.access import events_visible_to
from orsec.events.actions import do_open_event
from orsec.events.errors import RuleError, error_code
from orsec.events.models import Event, EventType
from orsec.journal.access import watch_territories_of
from orsec.journal.actions import USER_CHANNELS, do_add_entry
from orsec.journal.chain import chain_for_event
from orsec.journal.models import Channel, EntryKind, JournalEntry
from orsec.reports.actions import ReportError, do_submit_report

from ..errors import InvalidMessage
from ..importing import ImportContext, ImportOutcome, NotImportable
from .parse import EmsiMessage
from .validate import STANDARD, read_valid_emsi

#: ETYPE.CATEGORY (first level, or a more precise code first) → event type.
EVENT_TYPE_OF_CATEGORY = {
    "POL/NUK": EventType.NUCLEAR,
    "POL/RAD": EventType.NUCLEAR,
    "FIR": EventType.URBAN_FIRE,
    "FLD": EventType.FLOOD,
    "TRP": EventType.TRANSPORT_ACCIDENT,
    "EXP": EventType.INDUSTRIAL,
    "POL": EventType.HAZMAT,
    "HLT": EventType.HEALTH,
    "PSW": EventType.PUBLIC_ORDER,
}
CLASSIFIED = frozenset({"SECRET", "TOPSRT"})
PREDICTIONS = frozenset({"PRED_URGENT", "PRED_MEDIUM"})
MAX_LINES = 100


def event_type_of(categories: tuple[str, ...]) -> str:
    for category in categories:
        for key in (category, category.split("/")[0]):
            if key in EVENT_TYPE_OF_CATEGORY:
                return str(EVENT_TYPE_OF_CATEGORY[key])
    return str(EventType.OTHER)


def casualty_figures(message: EmsiMessage) -> dict[str, int]:
    """The bilan humain figures of a message (empty when it gives none)."""
    figures: dict[str, int] = {}

    def add(key: str, value: int | None) -> None:
        if value is not None:
            figures[key] = figures.get(key, 0) + value

    for block in message.event.casualties:
        if block.context in PREDICTIONS:
            continue
        add("dead", block.triage_black)
        add("absolute", block.triage_red)
        add("relative", block.triage_yellow)
        add("involved", block.triage_green)
        add("missing", block.missing)
    for evacuation in message.event.evacuations:
        add("evacuated", evacuation.evacuated)
        add("sheltered", evacuation.displaced)
    return figures


def _location(message: EmsiMessage) -> dict[str, Any] | None:
    for position in message.event.positions:
        if position.lat is not None and position.lon is not None:
            return {"type": "Point", "coordinates": [position.lon, position.lat]}
    return None


def _origin(message: EmsiMessage) -> str:
    return message.origin_name or message.origin_org_id or _("émetteur inconnu")


def _previous_entries(message: EmsiMessage) -> Any:
    return JournalEntry.objects.filter(
        data__emsi_origin=message.origin_org_id, data__emsi_event_id=message.event.id
    )


def _target_event(message: EmsiMessage, context: ImportContext) -> tuple[Event, bool]:
    """The event to write onto, and whether it was opened by this import."""
    if context.event is not None:
        event: Event = context.event
        if event.mode != message.mode:
            raise InvalidMessage(
                "emsi_mode_mismatch",
                _(
                    "Le message EMSI est en mode « %(message)s » et l'événement en mode "
                    "« %(event)s » : un exercice ne se mélange jamais au réel."
                )
                % {"message": message.mode, "event": event.mode},
                "/emsi/CONTEXT/MODE",
            )
        return event, False
    previous = (
        _previous_entries(message)
        .filter(chain__event__isnull=False, chain__event__closed_at__isnull=True)
        .values_list("chain__event_id", flat=True)
        .order_by("-pk")
        .first()
    )
    if previous is not None:
        found = events_visible_to(context.actor).filter(pk=previous, mode=message.mode).first()
        if found is not None:
            return found, False
    territory = watch_territories_of(context.actor).first()
    if territory is None:
        raise NotImportable(
            "emsi_no_territory",
            _("Aucun territoire à votre main pour ouvrir l'événement de ce message EMSI."),
            "/emsi/EVENT",
        )
    event = do_open_event(
        context.actor,
        title=(message.event.name or message.event.id)[:200],
        event_type=event_type_of(message.event.categories),
        territory=territory,
        mode=message.mode,
        description=message.event.freetext or message.freetext,
        location=_location(message),
        organisation=context.organisation,
    )
    return event, True


def _summary(message: EmsiMessage) -> str:
    parts = [
        _("Message EMSI %(type)s de %(origin)s — événement « %(name)s » (%(id)s).")
        % {
            "type": message.msg_type,
            "origin": _origin(message),
            "name": message.event.name or message.event.id,
            "id": message.event.id,
        }
    ]
    if message.freetext:
        parts.append(message.freetext)
    if message.event.freetext and message.event.freetext != message.freetext:
        parts.append(message.event.freetext)
    for position in message.event.positions[:3]:
        if position.address or position.name:
            parts.append(_("Lieu : %(place)s") % {"place": position.address or position.name})
    return "\n".join(parts)


def _resource_lines(message: EmsiMessage) -> list[str]:
    lines = []
    for resource in message.resources[:MAX_LINES]:
        label = resource.name or resource.id
        detail = ", ".join(
            part
            for part in (
                "/".join(resource.classes),
                "/".join(resource.capabilities),
                resource.status,
                resource.org_id,
            )
            if part
        )
        lines.append(f"- {label} ({detail})" if detail else f"- {label}")
    return lines


def _mission_lines(message: EmsiMessage) -> list[str]:
    lines = []
    for mission in message.missions[:MAX_LINES]:
        label = mission.name or mission.id
        detail = ", ".join(
            part
            for part in (
                "/".join(mission.types),
                mission.status,
                mission.org_id,
                _("moyens : %(ids)s") % {"ids": ", ".join(mission.resource_ids)}
                if mission.resource_ids
                else "",
            )
            if part
        )
        lines.append(f"- {label} ({detail})" if detail else f"- {label}")
    return lines


def import_emsi(data: bytes, context: ImportContext) -> ImportOutcome:
    verdict, message = read_valid_emsi(data)
    if message is None:
        error = verdict.errors[0] if verdict.errors else None
        raise InvalidMessage(
            error.code if error else "emsi_invalid",
            error.message if error else _("Message EMSI invalide."),
            error.path if error else "/emsi",
        )
    if message.seclass in CLASSIFIED:
        raise NotImportable(
            "emsi_classified",
            _(
                "Message classifié « %(level)s » : le portail n'est pas homologué pour des "
                "informations classifiées, il ne l'importe pas."
            )
            % {"level": message.seclass},
            "/emsi/CONTEXT/SECLASS",
        )
    if (
        message.origin_org_id
        and _previous_entries(message).filter(data__emsi_id=message.id).exists()
    ):
        return ImportOutcome(
            standard=STANDARD,
            summary=_("Message EMSI « %(id)s » déjà importé : rien n'a été réécrit.")
            % {"id": message.id},
            replay=True,
        )
    try:
        return _write(message, context)
    except (*RuleError, ReportError) as error:  # type: ignore[misc]
        code = error.code if isinstance(error, ReportError) else error_code(error)
        raise InvalidMessage(
            f"emsi_refused_{code}"[:60],
            _("Import refusé : %(reason)s") % {"reason": str(error)},
            "/emsi",
        ) from error


@transaction.atomic
def _write(message: EmsiMessage, context: ImportContext) -> ImportOutcome:
    now = timezone.now()
    channel = context.channel if context.channel in USER_CHANNELS else Channel.PARTNER
    event, opened = _target_event(message, context)
    chain = chain_for_event(event)
    data = {
        "emsi_id": message.id,
        "emsi_event_id": message.event.id,
        "emsi_origin": message.origin_org_id,
        "emsi_msg_type": message.msg_type,
    }
    entry_ids = []
    entry = do_add_entry(
        context.actor,
        chain,
        kind=EntryKind.INCOMING,
        text=_summary(message),
        channel=channel,
        organisation=context.organisation,
        data=data,
        now=now,
    )
    entry_ids.append(entry.pk)
    report_ids = []
    figures = casualty_figures(message)
    if figures:
        report = do_submit_report(
            context.actor,
            event=event,
            template="casualties",
            figures=figures,
            text=_("Bilan transmis par %(origin)s (EMSI %(id)s).")
            % {"origin": _origin(message), "id": message.id},
            channel=channel,
            organisation=context.organisation,
            now=now,
        )
        report_ids.append(report.pk)
    resources = _resource_lines(message)
    if resources:
        entry = do_add_entry(
            context.actor,
            chain,
            kind=EntryKind.INFORMATION,
            text=_("Moyens signalés par %(origin)s (EMSI) :") % {"origin": _origin(message)}
            + "\n"
            + "\n".join(resources),
            channel=channel,
            organisation=context.organisation,
            data={**data, "emsi_resources": len(message.resources)},
            now=now,
        )
        entry_ids.append(entry.pk)
    missions = _mission_lines(message)
    if missions:
        entry = do_add_entry(
            context.actor,
            chain,
            kind=EntryKind.ACTION,
            text=_("Missions signalées par %(origin)s (EMSI) :") % {"origin": _origin(message)}
            + "\n"
            + "\n".join(missions),
            channel=channel,
            organisation=context.organisation,
            data={**data, "emsi_missions": len(message.missions)},
            now=now,
        )
        entry_ids.append(entry.pk)
    record_audit(
        "interop.emsi.imported",
        actor=context.actor,
        target=event,
        data={
            "emsi_id": message.id[:200],
            "origin": message.origin_org_id[:200],
            "opened": opened,
            "entries": entry_ids,
            "reports": report_ids,
        },
    )
    summary = (
        _("Événement « %(title)s » ouvert") if opened else _("Ajouté à l'événement « %(title)s »")
    ) % {"title": event.title}
    summary += " — " + _("%(entries)s entrée(s), %(reports)s remontée(s).") % {
        "entries": len(entry_ids),
        "reports": len(report_ids),
    }
    return ImportOutcome(
        standard=STANDARD,
        summary=summary,
        event_id=event.pk,
        entry_ids=entry_ids,
        report_ids=report_ids,
    )
