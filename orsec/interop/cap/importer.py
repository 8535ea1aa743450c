"""Import of a (non-MeteoAlarm) CAP alert: one incoming-message journal entry.

The entry goes onto ``context.event`` when the caller names one (the alert's status must match
the event's mode: Actual → réel, Exercise → exercice, Test/System → test), else onto the watch
log of each département the alert's areas designate — NUTS3/EMMA_ID geocodes, or polygons and
circles intersecting the département's boundary — among those the actor covers. Watch logs
are real-mode only: an exercise or test alert needs ``--event``. ``Draft`` alerts are never
imported.

MeteoAlarm-profile alerts do not come here: :mod:`orsec.alerts.importer` (the importer listed
in ``IMPORTERS``) sends them to the vigilances and only the other alerts here.
A replay (same sender and identifier already imported) writes nothing.
"""

from __future__ import annotations

import math
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from shapely.geometry import Point, Polygon, shape

from orsec.accounts.access import scope_of
from orsec.audit.actions import record_audit
from orsec.events.errors import RuleError, error_code
from orsec.journal.actions import USER_CHANNELS, do_add_entry
from orsec.journal.chain import chain_for_event, watch_chain_for
from orsec.journal.models import Channel, EntryKind, JournalEntry
from orsec.territories.models import Territory, TerritoryKind

from ..errors import InvalidMessage
from ..importing import ImportContext, ImportOutcome, NotImportable
from .parse import CapAlert, CapArea
from .validate import read_valid_cap

MODE_OF_STATUS = {"Actual": "real", "Exercise": "exercise", "Test": "test", "System": "test"}
KM_PER_DEGREE = 111.32


def _error_from_verdict(verdict: Any) -> InvalidMessage:
    error = verdict.errors[0] if verdict.errors else None
    return InvalidMessage(
        error.code if error else "cap_invalid",
        error.message if error else _("Alerte CAP invalide."),
        error.path if error else "/alert",
    )


def _area_shapes(area: CapArea) -> list[Any]:
    shapes: list[Any] = []
    for points in area.polygons:
        if len(points) >= 4:
            shapes.append(Polygon([(lon, lat) for lat, lon in points]))
    for lat, lon, radius_km in area.circles:
        degrees = radius_km / KM_PER_DEGREE
        stretch = max(math.cos(math.radians(lat)), 0.01)
        circle = Point(lon, lat).buffer(degrees, quad_segs=16)
        # a circle in km is an ellipse in degrees: widen it in longitude
        shapes.append(Polygon([(lon + (x - lon) / stretch, y) for x, y in circle.exterior.coords]))
    return shapes


def designated_departements(alert: CapAlert) -> list[Territory]:
    """Départements named by geocodes (NUTS3, EMMA_ID) or touched by polygons/circles."""
    where = Q(pk__in=[])
    shapes: list[Any] = []
    for info in alert.infos:
        for area in info.areas:
            for name, value in area.geocodes:
                if name.upper() == "NUTS3" and value:
                    where |= Q(nuts3=value)
                elif name.upper() == "EMMA_ID" and value:
                    where |= Q(emma_id=value)
            shapes.extend(_area_shapes(area))
    departements = Territory.objects.filter(kind=TerritoryKind.DEPARTEMENT)
    found = {t.pk: t for t in departements.filter(where)}
    for area_shape in shapes:
        if not area_shape.is_valid:
            area_shape = area_shape.buffer(0)
        min_lon, min_lat, max_lon, max_lat = area_shape.bounds
        candidates = departements.filter(
            bbox_min_lon__lte=max_lon,
            bbox_max_lon__gte=min_lon,
            bbox_min_lat__lte=max_lat,
            bbox_max_lat__gte=min_lat,
        )
        for territory in candidates:
            if territory.pk in found or not territory.boundary:
                continue
            try:
                if shape(territory.boundary).intersects(area_shape):
                    found[territory.pk] = territory
            except (ValueError, TypeError, AttributeError):
                continue
    return sorted(found.values(), key=lambda t: t.code)


def _text(alert: CapAlert) -> str:
    lines = [
        _("Alerte CAP %(type)s de %(sender)s (%(status)s).")
        % {"type": alert.msg_type, "sender": alert.sender, "status": alert.status}
    ]
    for info in alert.infos[:3]:
        lines.append(
            " — ".join(
                part
                for part in (
                    info.headline or info.event,
                    _("gravité %(severity)s, urgence %(urgency)s, certitude %(certainty)s")
                    % {
                        "severity": info.severity,
                        "urgency": info.urgency,
                        "certainty": info.certainty,
                    },
                )
                if part
            )
        )
        areas = ", ".join(area.description for area in info.areas if area.description)
        if areas:
            lines.append(_("Zones : %(areas)s") % {"areas": areas[:1000]})
        if info.description:
            lines.append(info.description[:3000])
        if info.instruction:
            lines.append(_("Consignes : %(text)s") % {"text": info.instruction[:2000]})
    if alert.note:
        lines.append(alert.note[:1000])
    return "\n".join(lines)


def import_plain_cap(data: bytes, context: ImportContext) -> ImportOutcome:
    verdict, alert = read_valid_cap(data)
    if alert is None:
        raise _error_from_verdict(verdict)
    return import_cap_alert(alert, context)


def import_cap_alert(alert: CapAlert, context: ImportContext) -> ImportOutcome:
    standard = f"CAP {alert.version}"
    if alert.status == "Draft":
        raise NotImportable(
            "cap_draft_not_importable",
            _("Alerte CAP « Draft » (brouillon) : elle n'est pas importée."),
            "/alert/status",
        )
    mode = MODE_OF_STATUS.get(alert.status, "test")
    previous = JournalEntry.objects.filter(
        data__cap_sender=alert.sender, data__cap_identifier=alert.identifier
    )
    if previous.exists():
        return ImportOutcome(
            standard=standard,
            summary=_("Alerte CAP « %(id)s » déjà importée : rien n'a été réécrit.")
            % {"id": alert.identifier},
            replay=True,
        )
    if context.event is not None:
        if context.event.mode != mode:
            raise InvalidMessage(
                "cap_mode_mismatch",
                _(
                    "L'alerte CAP a le statut « %(status)s » et l'événement est en mode "
                    "« %(mode)s » : un exercice ne se mélange jamais au réel."
                )
                % {"status": alert.status, "mode": context.event.mode},
                "/alert/status",
            )
        chains = [chain_for_event(context.event)]
    else:
        if mode != "real":
            raise NotImportable(
                "cap_event_required",
                _(
                    "Alerte CAP « %(status)s » : les mains courantes de veille sont réelles, "
                    "indiquez l'événement d'exercice ou de test qui la reçoit."
                )
                % {"status": alert.status},
                "/alert/status",
            )
        scope = scope_of(context.actor)
        departements = [t for t in designated_departements(alert) if scope.covers(t.path)]
        if not departements:
            raise NotImportable(
                "cap_no_departement",
                _(
                    "Aucun des départements visés par l'alerte (codes NUTS3/EMMA_ID, polygones, "
                    "cercles) n'est dans votre périmètre : indiquez l'événement qui la reçoit."
                ),
                "/alert/info",
            )
        chains = [watch_chain_for(t) for t in departements]
    try:
        return _write(alert, context, chains, standard)
    except RuleError as error:
        raise InvalidMessage(
            f"cap_refused_{error_code(error)}"[:60],
            _("Import refusé : %(reason)s") % {"reason": str(error)},
            "/alert",
        ) from error


@transaction.atomic
def _write(
    alert: CapAlert, context: ImportContext, chains: list[Any], standard: str
) -> ImportOutcome:
    now = timezone.now()
    channel = context.channel if context.channel in USER_CHANNELS else Channel.PARTNER
    text = _text(alert)
    entry_ids = []
    for chain in chains:
        entry = do_add_entry(
            context.actor,
            chain,
            kind=EntryKind.INCOMING,
            text=text,
            channel=channel,
            organisation=context.organisation,
            data={
                "cap_sender": alert.sender,
                "cap_identifier": alert.identifier,
                "cap_msg_type": alert.msg_type,
                "cap_status": alert.status,
            },
            now=now,
        )
        entry_ids.append(entry.pk)
    record_audit(
        "interop.cap.imported",
        actor=context.actor,
        data={"identifier": alert.identifier[:200], "entries": entry_ids},
    )
    event_id = context.event.pk if context.event is not None else None
    return ImportOutcome(
        standard=standard,
        summary=_("Alerte CAP « %(id)s » inscrite dans %(n)s main(s) courante(s).")
        % {"id": alert.identifier, "n": len(entry_ids)},
        event_id=event_id,
        entry_ids=entry_ids,
    )
