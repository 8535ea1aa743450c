"""The only writer of vigilances: import of a MeteoAlarm CAP alert.

Journal entries (département watch log, ``watch_chain_for``) are written for orange and red
vigilances only — when one starts, when its colour or its times change, and when it ends. The
entry's qualification is ``none`` ("sans objet"): an official Météo-France bulletin is neither a
raw field report nor something an operator confirms; it is an incoming partner message
(kind ``incoming``, channel ``partner``) signed "Météo-France / MeteoAlarm (import automatique)".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from orsec.alerts.meteoalarm import (
    COLOUR_LABELS,
    PHENOMENON_LABELS,
    VigilanceNotice,
    map_meteoalarm,
)
from orsec.alerts.models import (
    LEVEL_OF,
    ImportedCapAlert,
    Vigilance,
    VigilanceFeedState,
    VigilanceState,
    VigilanceTransition,
)
from orsec.alerts.queries import departement_geocodes
from orsec.audit.actions import record_audit
from orsec.events.models import Event
from orsec.interop.cap.parse import CapAlert
from orsec.interop.cap.validate import read_valid_cap
from orsec.interop.errors import InteropError, Verdict
from orsec.journal.chain import append_entry, watch_chain_for
from orsec.journal.models import Channel, EntryKind, JournalEntry, QualificationState
from orsec.live.outbox import event_topic, queue_live_message, watch_topic
from orsec.territories.models import Territory, path_ancestors


def events_concerned_topics(vigilance: Vigilance) -> list[str]:
    """The live topics of the open events whose page shows this vigilance (its département's
    events, and zone or national events above it), so that their dashboards update at once."""
    ancestors = path_ancestors(vigilance.territory_path)
    events = Event.objects.filter(closed_at__isnull=True).filter(
        Q(departement_id=vigilance.departement_id)
        | Q(departement__isnull=True, territory_path__in=ancestors)
    )
    return [event_topic(pk) for pk in events.values_list("pk", flat=True)]


#: Levels whose changes are written in the département's watch log.
JOURNAL_MIN_LEVEL = 3


@dataclass
class ImportResult:
    """What one import did. ``verdict`` is the CAP verdict, or the MeteoAlarm profile's."""

    verdict: Verdict
    duplicate: bool = False
    notices: list[VigilanceNotice] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)
    entries: list[int] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.verdict.is_valid


def _when(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M")


def _source_label(sender: str) -> str:
    if sender.lower().endswith("meteo.fr"):
        return _("Météo-France / MeteoAlarm")
    return _("%(sender)s / MeteoAlarm") % {"sender": sender[:100]}


class _Importer:
    def __init__(self, alert: CapAlert, source: str, now: dt.datetime) -> None:
        self.alert = alert
        self.source = source
        self.now = now
        self.result = ImportResult(verdict=Verdict(standard="MeteoAlarm", verdict="valid"))
        self.label = _source_label(alert.sender)

    def _entry(self, vigilance: Vigilance, text: str) -> None:
        entry: JournalEntry = append_entry(
            watch_chain_for(vigilance.departement),
            kind=EntryKind.INCOMING,
            channel=Channel.PARTNER,
            text=text,
            author_label=_("%(source)s (import automatique)") % {"source": self.label},
            occurred_at=self.alert.sent,
            qualification=QualificationState.NOT_APPLICABLE,
            subject=vigilance,
            data={
                "cap_identifier": self.alert.identifier,
                "colour": vigilance.colour,
                "phenomenon": vigilance.phenomenon,
            },
            now=self.now,
        )
        self.result.entries.append(entry.pk)

    def _describe(self, vigilance: Vigilance) -> str:
        return _(
            "Vigilance %(colour)s %(phenomenon)s pour %(departement)s "
            "du %(onset)s au %(expires)s — %(source)s"
        ) % {
            "colour": COLOUR_LABELS[vigilance.colour],
            "phenomenon": PHENOMENON_LABELS[vigilance.phenomenon],
            "departement": vigilance.departement,
            "onset": _when(vigilance.onset),
            "expires": _when(vigilance.expires),
            "source": self.label,
        }

    def _transition(
        self, vigilance: Vigilance, action: str, old: str, new: str, reason: str
    ) -> None:
        VigilanceTransition.objects.create(
            vigilance=vigilance,
            action=action,
            old=old,
            new=new,
            reason=reason[:200],
            cap_identifier=self.alert.identifier,
            at=self.now,
        )
        queue_live_message(
            [watch_topic(vigilance.territory_path), *events_concerned_topics(vigilance)],
            "vigilance.changed",
            {"vigilance": vigilance.pk},
            mode=vigilance.mode,
        )

    def create(self, notice: VigilanceNotice, departement: Territory) -> None:
        vigilance = Vigilance.objects.create(
            departement=departement,
            territory_path=departement.path,
            phenomenon=notice.phenomenon,
            colour=notice.colour,
            level=notice.level,
            onset=notice.onset,
            expires=notice.expires,
            headline=notice.headline[:300],
            source=self.source,
            sender=notice.sender,
            cap_identifier=notice.identifier,
            cap_identifiers=[notice.identifier],
            created_at=self.now,
            updated_at=self.now,
        )
        self._transition(
            vigilance, VigilanceTransition.Action.CREATE, "", notice.colour, self.alert.msg_type
        )
        self.result.created.append(vigilance.pk)
        if vigilance.level >= JOURNAL_MIN_LEVEL:
            self._entry(vigilance, self._describe(vigilance))

    def update(self, vigilance: Vigilance, notice: VigilanceNotice) -> None:
        old_colour = vigilance.colour
        changed = (vigilance.colour, vigilance.onset, vigilance.expires) != (
            notice.colour,
            notice.onset,
            notice.expires,
        )
        vigilance.colour, vigilance.level = notice.colour, notice.level
        vigilance.onset, vigilance.expires = notice.onset, notice.expires
        vigilance.headline = notice.headline[:300]
        vigilance.cap_identifier = notice.identifier
        vigilance.cap_identifiers = [*vigilance.cap_identifiers, notice.identifier]
        vigilance.updated_at = self.now
        vigilance.save()
        self._transition(
            vigilance, VigilanceTransition.Action.UPDATE, old_colour, notice.colour, "Update"
        )
        self.result.updated.append(vigilance.pk)
        if changed and max(vigilance.level, LEVEL_OF[old_colour]) >= JOURNAL_MIN_LEVEL:
            text = self._describe(vigilance)
            if old_colour != vigilance.colour:
                text += " " + _("(auparavant %(colour)s)") % {"colour": COLOUR_LABELS[old_colour]}
            else:
                text += " " + _("(mise à jour)")
            self._entry(vigilance, text)

    def end(self, vigilance: Vigilance, reason: str) -> None:
        old_state = vigilance.state
        vigilance.state = VigilanceState.ENDED
        vigilance.ended_at = self.now
        vigilance.cap_identifiers = [*vigilance.cap_identifiers, self.alert.identifier]
        vigilance.updated_at = self.now
        vigilance.save()
        self._transition(
            vigilance, VigilanceTransition.Action.END, old_state, vigilance.state, reason
        )
        self.result.ended.append(vigilance.pk)
        if vigilance.level >= JOURNAL_MIN_LEVEL:
            self._entry(
                vigilance,
                _(
                    "Fin de vigilance %(colour)s %(phenomenon)s pour %(departement)s "
                    "(%(reason)s) — %(source)s"
                )
                % {
                    "colour": COLOUR_LABELS[vigilance.colour],
                    "phenomenon": PHENOMENON_LABELS[vigilance.phenomenon],
                    "departement": vigilance.departement,
                    "reason": reason,
                    "source": self.label,
                },
            )


def _reject(error: InteropError) -> ImportResult:
    return ImportResult(
        verdict=Verdict(standard="MeteoAlarm", verdict=error.verdict, errors=[error.as_error()])
    )


def do_import_meteoalarm(
    data: bytes, *, source: str = "meteoalarm", now: dt.datetime | None = None
) -> ImportResult:
    """Import one MeteoAlarm CAP alert: vigilances per département, watch-log entries.

    Invalid CAP → the CAP verdict; outside the MeteoAlarm profile → a ``MeteoAlarm`` verdict
    with the precise error; in both cases nothing is written. The same (sender, identifier)
    imported twice → ``duplicate``, nothing written the second time.
    """
    now = now or timezone.now()
    verdict, alert = read_valid_cap(data)
    if alert is None:
        return ImportResult(verdict=verdict)
    geocodes, departements = departement_geocodes()
    try:
        notices = map_meteoalarm(alert, departements=geocodes, now=now)
    except InteropError as error:
        return _reject(error)
    return _apply(alert, notices, departements, source=source, now=now)


@transaction.atomic
def _apply(
    alert: CapAlert,
    notices: list[VigilanceNotice],
    departements: dict[str, Territory],
    *,
    source: str,
    now: dt.datetime,
) -> ImportResult:
    importer = _Importer(alert, source, now)
    importer.result.notices = notices
    if ImportedCapAlert.objects.filter(sender=alert.sender, identifier=alert.identifier).exists():
        importer.result.duplicate = True
        return importer.result
    try:
        with transaction.atomic():
            record = ImportedCapAlert.objects.create(
                sender=alert.sender,
                identifier=alert.identifier,
                sent=alert.sent,
                msg_type=alert.msg_type,
                source=source,
                imported_at=now,
                notices=len(notices),
            )
    except IntegrityError:  # the same alert imported concurrently
        importer.result.duplicate = True
        return importer.result

    referenced: dict[tuple[int, str], Vigilance] = {}
    if alert.msg_type in ("Update", "Cancel") and alert.references:
        for vigilance in (
            Vigilance.objects.select_for_update()
            .filter(
                state=VigilanceState.ACTIVE,
                cap_identifier__in=[ref.identifier for ref in alert.references],
            )
            .order_by("pk")
        ):
            referenced[(vigilance.departement_id, vigilance.phenomenon)] = vigilance
    reason_end = _("annulation") if alert.msg_type == "Cancel" else _("fin de vigilance")
    for notice in notices:
        departement = departements[notice.departement_code]
        existing = referenced.pop((departement.pk, notice.phenomenon), None)
        if existing is not None:
            existing.departement = departement
        if notice.ends:
            if existing is not None:
                importer.end(existing, reason_end)
        elif existing is not None:
            importer.update(existing, notice)
        else:
            importer.create(notice, departement)
    # An Update replaces the alerts it references: what it no longer covers has ended.
    for vigilance in referenced.values():
        vigilance.departement = departements.get(vigilance.departement.code, vigilance.departement)
        importer.end(
            vigilance,
            reason_end if alert.msg_type == "Cancel" else _("remplacée, zone plus concernée"),
        )
    result = importer.result
    record_audit(
        "alerts.meteoalarm.imported",
        actor_label=importer.label,
        target=record,
        data={
            "identifier": alert.identifier[:200],
            "msg_type": alert.msg_type,
            "source": source,
            "created": result.created,
            "updated": result.updated,
            "ended": result.ended,
        },
    )
    return result


@transaction.atomic
def do_record_feed_poll(
    url: str,
    *,
    reached: bool,
    not_modified: bool,
    etag: str,
    last_modified: str,
    status: str,
    errors: list[dict[str, str]],
    imported: int,
    now: dt.datetime,
) -> VigilanceFeedState:
    """Record one poll of a feed (the only writer of ``VigilanceFeedState``).

    The validators (``ETag``, ``Last-Modified``) are kept from the last full answer; a 304 keeps
    them. An audit record is written when the feed's error state changes (not at every poll:
    a feed is polled every few minutes), so an outage and its end are traced.
    """
    state, _created = VigilanceFeedState.objects.select_for_update().get_or_create(url=url[:500])
    had_errors = bool(state.last_errors)
    state.last_polled_at = now
    state.polls += 1
    state.last_status = status[:300]
    state.last_errors = errors
    state.alerts_imported += imported
    if reached:
        state.last_success_at = now
        if not not_modified:
            state.etag = etag[:300]
            state.last_modified = last_modified[:300]
    state.save()
    if had_errors != bool(errors):
        record_audit(
            "alerts.feed.errors" if errors else "alerts.feed.recovered",
            actor_label=_("Relève des flux MeteoAlarm"),
            target=state,
            data={"url": url[:500], "errors": [error["code"] for error in errors][:20]},
        )
    return state
