"""Compiling a SITREP draft from what changed since the previous one (read-only; no writes).

Rules (``docs/sitrep.md``, Compilation):

* the **period** runs from the end of the previous SITREP of the same series (or the event's
  opening) to the compilation time; entries are taken by ``recorded_at`` in that period;
* entries labelled *diffusion restreinte* never enter a compiled draft (the document goes up to
  the zone and is read by the whole COD); the room lead may summarise them by hand;
* **faits marquants et informations confirmées**: entries of the period that are highlights
  (written as such, or pinned during the period) or confirmed information;
* **actions et décisions**: entries of kind *décision* or *action* of the period;
* **demandes en cours**: entries of kind *demande* of the period, then every delivery of the
  event still waiting for its acknowledgement (whenever it was sent);
* **bilan humain** and **réseaux**: the latest confirmed key figures (``orsec.reports``), with
  the change since the previous SITREP;
* **moyens engagés**: the latest confirmed "moyens engagés" field report, else the previous
  SITREP's text; **situation générale** and **perspectives** start from the previous SITREP's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from orsec.dissemination.models import Delivery, DeliveryState
from orsec.events.models import Event
from orsec.journal.models import (
    Confidentiality,
    EntryKind,
    Highlight,
    JournalEntry,
    QualificationState,
)
from orsec.reports.models import (
    CASUALTY_FIELDS,
    EVACUATION_FIELDS,
    NETWORK_FIELDS,
    RESOURCE_FIELDS,
    RESOURCE_SERVICES,
    FieldReport,
    ReportState,
    Template,
)
from orsec.reports.queries import key_figures
from orsec.sitreps.models import SECTION_FIELDS, Sitrep, SitrepState

#: Longest quote of one entry in a compiled section.
QUOTE_LENGTH = 400
#: Key figures of the "bilan humain" section (the rest are networks).
CASUALTY_KEYS = (*CASUALTY_FIELDS.keys(), "shelters_open")
NETWORK_KEYS = tuple(NETWORK_FIELDS.keys())
#: Entry kinds that are never quoted (the portal's own bookkeeping).
NOISE_KINDS = (EntryKind.STATE_CHANGE, EntryKind.OUTGOING)
SITREP_SUBJECT = "sitreps.sitrep"


@dataclass
class Compiled:
    sections: dict[str, str] = field(default_factory=dict)
    figures: list[dict[str, Any]] = field(default_factory=list)
    sources: dict[str, list[int]] = field(default_factory=dict)


def local(value: datetime) -> str:
    return formats.date_format(timezone.localtime(value), "d/m/Y H:i")


def _quote(text: str) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= QUOTE_LENGTH else flat[: QUOTE_LENGTH - 1].rstrip() + "…"


def _entry_line(entry: JournalEntry) -> str:
    who = entry.organisation_label or entry.author_label
    return f"- {local(entry.occurred_at)} — {who} : {_quote(entry.text)}"


def _period_entries(event: Event, start: datetime, end: datetime, *, inclusive: bool) -> Any:
    after = Q(recorded_at__gte=start) if inclusive else Q(recorded_at__gt=start)
    return (
        JournalEntry.objects.filter(after, event=event, recorded_at__lte=end)
        .exclude(confidentiality=Confidentiality.RESTRICTED)
        .exclude(subject_type=SITREP_SUBJECT)
        .order_by("occurred_at", "seq")
    )


def _figures(event: Event, previous: Sitrep | None) -> list[dict[str, Any]]:
    before = {f["key"]: f["value"] for f in (previous.figures if previous else [])}
    return [
        {
            "key": figure.key,
            "label": figure.label,
            "value": figure.value,
            "previous": before.get(figure.key),
            "source": figure.organisation,
            "at": figure.occurred_at.isoformat(),
        }
        for figure in key_figures(event)
    ]


def figures_text(figures: list[dict[str, Any]], keys: tuple[str, ...]) -> str:
    lines = []
    for figure in figures:
        if figure["key"] not in keys:
            continue
        line = f"- {figure['label']} : {figure['value']}"
        previous = figure.get("previous")
        if previous is not None and previous != figure["value"]:
            line += " " + _("(%(delta)+d depuis le point précédent)") % {
                "delta": figure["value"] - previous
            }
        lines.append(line)
    return "\n".join(lines)


def _resources_text(event: Event) -> tuple[str, int | None]:
    report = (
        FieldReport.objects.filter(
            event=event,
            state=ReportState.CONFIRMED,
            template=Template.RESOURCES,
            duplicate_of__isnull=True,
        )
        .order_by("-occurred_at", "-id")
        .first()
    )
    if report is None:
        return "", None
    lines = []
    for service, counts in (report.figures or {}).items():
        if service not in RESOURCE_SERVICES or not isinstance(counts, dict):
            continue
        parts = [
            f"{counts[k]} {RESOURCE_FIELDS[k]}"
            for k in RESOURCE_FIELDS
            if isinstance(counts.get(k), int)
        ]
        if parts:
            lines.append(f"- {RESOURCE_SERVICES[service]} : {', '.join(parts)}")
    if not lines:
        return "", None
    header = _("Selon la remontée confirmée du %(at)s :") % {"at": local(report.occurred_at)}
    return "\n".join([header, *lines]), report.pk


def compile_event(
    event: Event, *, start: datetime, end: datetime, previous: Sitrep | None, inclusive: bool
) -> Compiled:
    """The draft sections of an event's next SITREP (see the module's rules)."""
    entries = list(_period_entries(event, start, end, inclusive=inclusive))
    pinned_now = set(
        Highlight.objects.filter(
            entry__event=event, pinned_at__gt=start, pinned_at__lte=end
        ).values_list("entry_id", flat=True)
    )
    pinned_entries = list(
        JournalEntry.objects.filter(pk__in=pinned_now)
        .exclude(confidentiality=Confidentiality.RESTRICTED)
        .exclude(pk__in=[e.pk for e in entries])
    )
    highlights = [
        e
        for e in [*entries, *pinned_entries]
        if e.kind not in NOISE_KINDS
        and (
            e.is_highlight
            or e.pk in pinned_now
            or (e.qualification == QualificationState.CONFIRMED and e.corrects_id is None)
        )
    ]
    highlights.sort(key=lambda e: (e.occurred_at, e.seq))
    decisions = [e for e in entries if e.kind in (EntryKind.DECISION, EntryKind.ACTION)]
    requests = [e for e in entries if e.kind == EntryKind.REQUEST]
    waiting = list(
        Delivery.objects.filter(event=event, sent_at__lte=end)
        .exclude(state=DeliveryState.ACKNOWLEDGED)
        .exclude(entry__confidentiality=Confidentiality.RESTRICTED)
        .exclude(entry__subject_type=SITREP_SUBJECT)
        .select_related("organisation", "entry")
        .order_by("sent_at", "id")
    )
    figures = _figures(event, previous)
    resources, resources_report = _resources_text(event)

    pending_lines = [_entry_line(e) for e in requests]
    if waiting:
        pending_lines.append(_("En attente de prise en compte :"))
        pending_lines += [
            f"- {d.organisation.short_name or d.organisation.name} — "
            f"{_('envoyée le')} {local(d.sent_at)} : {_quote(d.entry.text)}"
            for d in waiting
        ]
    phase_line = _("Phase : %(phase)s. Gravité : %(gravity)s/5.") % {
        "phase": event.get_phase_display(),
        "gravity": event.gravity,
    }
    if previous is not None and previous.general_situation:
        general = previous.general_situation
    else:
        general = "\n".join(x for x in (phase_line, event.description) if x)
    sections = {
        "general_situation": general,
        "highlights": "\n".join(_entry_line(e) for e in highlights),
        "casualties": figures_text(figures, CASUALTY_KEYS),
        "networks": figures_text(figures, NETWORK_KEYS),
        "resources": resources or (previous.resources if previous else ""),
        "pending_requests": "\n".join(pending_lines),
        "actions_decisions": "\n".join(_entry_line(e) for e in decisions),
        "outlook": previous.outlook if previous else "",
    }
    sources = {
        "highlights": [e.pk for e in highlights],
        "decisions": [e.pk for e in decisions],
        "requests": [e.pk for e in requests],
        "deliveries": [d.pk for d in waiting],
        "reports": [resources_report] if resources_report else [],
    }
    return Compiled(sections=sections, figures=figures, sources=sources)


def latest_frozen_by_event(zone_path: str) -> list[Sitrep]:
    """The latest frozen SITREP of each event emitted by a département of the zone."""
    rows = (
        Sitrep.objects.filter(
            emitting_path__startswith=zone_path + "/",
            event__isnull=False,
            state=SitrepState.FROZEN,
        )
        .select_related("event")
        .order_by("event_id", "-number")
    )
    latest: dict[int, Sitrep] = {}
    for sitrep in rows:
        if sitrep.event_id is not None:
            latest.setdefault(sitrep.event_id, sitrep)
    return sorted(latest.values(), key=lambda s: (s.emitting_path, s.event_id or 0))


def compile_zone(sitreps: list[Sitrep]) -> Compiled:
    """A zonal synthesis: each département SITREP's sections under its heading, and the key
    figures summed over the events."""
    totals: dict[str, dict[str, Any]] = {}
    for sitrep in sitreps:
        for figure in sitrep.figures or []:
            row = totals.setdefault(
                figure["key"],
                {"key": figure["key"], "label": figure["label"], "value": 0, "previous": None},
            )
            row["value"] += int(figure["value"])
    figures = list(totals.values())
    sections: dict[str, str] = dict.fromkeys(SECTION_FIELDS, "")
    for name in SECTION_FIELDS:
        if name in ("casualties", "networks"):
            continue
        blocks = []
        for sitrep in sitreps:
            text = getattr(sitrep, name).strip()
            if text:
                heading = _("%(emitter)s — %(title)s (SITREP n° %(n)s du %(at)s)") % {
                    "emitter": sitrep.emitting_label,
                    "title": sitrep.title,
                    "n": sitrep.number,
                    "at": local(sitrep.frozen_at or sitrep.period_end),
                }
                blocks.append(f"{heading}\n{text}")
        sections[name] = "\n\n".join(blocks)
    casualty_keys = (*CASUALTY_KEYS, *EVACUATION_FIELDS.keys())
    sections["casualties"] = figures_text(figures, casualty_keys)
    sections["networks"] = figures_text(figures, NETWORK_KEYS)
    return Compiled(
        sections=sections, figures=figures, sources={"sitreps": [s.pk for s in sitreps]}
    )
