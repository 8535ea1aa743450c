"""The only writers of plans, versions, exercises, activations and checklists.

Each action, in one transaction: checks the rules (raising :class:`PlanError` with a French
message and a stable code), writes the rows, records the transition where there is a state,
appends the main courante entry when an event is concerned, records the audit and queues the
live message. Callers obtained the objects through :mod:`orsec.plans.access` and checked the
abilities; the actions check the *rules* (an approved version is immutable, only an approved
version is activated, a stale tick is refused…).
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from orsec.audit.actions import record_audit
from orsec.directory.models import Organisation, OrganisationKind
from orsec.dissemination.actions import DisseminationError, do_disseminate_entry
from orsec.events.models import Event, EventCommune
from orsec.journal.actions import JournalError, acting_organisation, check_text
from orsec.journal.chain import append_entry, chain_for_event
from orsec.journal.files import ALLOWED_TYPES, safe_filename, sniff_content_type
from orsec.journal.models import Channel, EntryKind
from orsec.live.outbox import event_topic, queue_live_message
from orsec.oncall.actions import start_call_lists_for_event
from orsec.plans.content import (
    PlanContentError,
    plan_templates,
    serialize_version,
    validate_document,
)
from orsec.plans.models import (
    REVIEW_EVERY_YEARS,
    Activation,
    ActivationState,
    ActivationTransition,
    ChecklistItem,
    Plan,
    PlanDocument,
    PlanExercise,
    PlanLevel,
    PlanVersion,
    PlanVersionTransition,
    ReflexItem,
    ReflexSheet,
    Section,
    VersionComment,
    VersionState,
    add_years,
)
from orsec.territories.models import Territory, TerritoryKind

#: Largest document attached to a version.
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_COMMENT = 2000
#: The territory kind each plan level belongs to (an EPCI plan sits on a commune: its seat).
LEVEL_TERRITORY = {
    PlanLevel.COMMUNE: TerritoryKind.COMMUNE,
    PlanLevel.EPCI: TerritoryKind.COMMUNE,
    PlanLevel.DEPARTEMENT: TerritoryKind.DEPARTEMENT,
    PlanLevel.ZONE: TerritoryKind.ZONE,
}
#: Error codes answered with 409 by the API.
CONFLICT_CODES = frozenset(
    {"conflict", "version_frozen", "version_in_review", "invalid_transition", "already_active"}
)


class PlanError(ValueError):
    """A write the plan rules refuse; ``str(error)`` is the French message for the user."""

    def __init__(self, message: str, code: str = "plan_rule", field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.field = field


def _state_label(state: str) -> str:
    return str(VersionState(state).label)


def check_editable(version: PlanVersion) -> None:
    """An approved (or superseded) version is immutable; a version in review is frozen until
    it returns to draft."""
    if version.is_frozen:
        raise PlanError(
            _(
                "La version %(number)s est %(state)s : elle ne peut plus être modifiée. "
                "Créez une nouvelle version du plan pour la faire évoluer."
            )
            % {"number": version.number, "state": _state_label(version.state).lower()},
            "version_frozen",
        )
    if version.state == VersionState.REVIEW:
        raise PlanError(
            _(
                "La version %(number)s est en relecture : renvoyez-la en brouillon avant de la "
                "modifier."
            )
            % {"number": version.number},
            "version_in_review",
        )


def _locked_version(version: PlanVersion) -> PlanVersion:
    return PlanVersion.objects.select_for_update().select_related("plan").get(pk=version.pk)


def _editable_version(version: PlanVersion, expected_revision: int | None) -> PlanVersion:
    """The version locked for a content edit: a draft, at the revision the editor saw."""
    version = _locked_version(version)
    check_editable(version)
    _check_revision(version, expected_revision)
    return version


def _required_text(value: str, limit: int, message: str, code: str, field: str) -> str:
    text = (value or "").strip()
    if not text or len(text) > limit:
        raise PlanError(message, code, field)
    return text


def _bump(version: PlanVersion) -> None:
    version.revision += 1
    version.save(update_fields=["revision"])


def _version_transition(
    version: PlanVersion, old: str, new: str, actor: Any, now: datetime, reason: str = ""
) -> None:
    PlanVersionTransition.objects.create(
        version=version, old=old, new=new, reason=reason, actor=_person(actor), at=now
    )


def _person(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


# --- Content ----------------------------------------------------------------------------------


def _fill_version(version: PlanVersion, document: dict[str, Any]) -> None:
    """Create the sections, fiches and items of ``document`` (already validated) in ``version``."""
    sections: dict[str, Section] = {}
    for order, data in enumerate(document["sections"]):
        sections[data["key"]] = Section.objects.create(
            version=version,
            key=data["key"],
            kind=data["kind"],
            title=data["title"],
            body=data.get("body", ""),
            trigger=data.get("trigger", ""),
            order=order,
        )
    for order, data in enumerate(document["fiches"]):
        sheet = ReflexSheet.objects.create(
            version=version,
            section=sections[data["section"]],
            key=data["key"],
            actor_kind=data["actor"],
            phase=data["phase"],
            title=data["title"],
            order=order,
        )
        ReflexItem.objects.bulk_create(
            [
                ReflexItem(sheet=sheet, key=item["key"], text=item["text"], order=index)
                for index, item in enumerate(data["items"])
            ]
        )


def _check_territory(level: str, territory: Territory) -> None:
    expected = LEVEL_TERRITORY[PlanLevel(level)]
    if territory.kind != expected:
        raise PlanError(
            _(
                "Un plan de niveau « %(level)s » se rattache à un territoire de type "
                "« %(expected)s » : « %(name)s » est de type « %(kind)s »."
            )
            % {
                "level": PlanLevel(level).label,
                "expected": TerritoryKind(expected).label,
                "name": territory.name,
                "kind": TerritoryKind(territory.kind).label,
            },
            "territory_level_mismatch",
            "territory",
        )


@transaction.atomic
def do_create_plan(
    actor: Any,
    document: dict[str, Any],
    *,
    territory: Territory,
    owner: Organisation | None = None,
    title: str = "",
    template_key: str = "",
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Plan:
    """A new plan on ``territory`` whose version 1 (draft) holds ``document`` (validated here)."""
    now = now or timezone.now()
    try:
        document = validate_document(document)
    except PlanContentError as error:
        raise PlanError(str(error), "invalid_plan_document") from error
    _check_territory(document["level"], territory)
    title = (title or "").strip() or document["title"]
    if len(title) > 200:
        raise PlanError(_("L'intitulé dépasse 200 caractères."), "title_too_long", "title")
    plan = Plan.objects.create(
        title=title,
        level=document["level"],
        territory=territory,
        territory_path=territory.path,
        owner=owner or acting_organisation(actor),
        template_key=template_key,
        created_at=now,
        created_by=_person(actor),
    )
    version = PlanVersion.objects.create(
        plan=plan,
        number=1,
        summary=document.get("summary", ""),
        created_at=now,
        created_by=_person(actor),
    )
    _fill_version(version, document)
    _version_transition(version, "", VersionState.DRAFT, actor, now, _("Création du plan"))
    record_audit(
        "plans.plan.created",
        actor=actor,
        request=request,
        target=plan,
        data={"version": version.pk, "template": template_key, "territory": territory.path},
    )
    return plan


def do_copy_template(
    actor: Any,
    template_key: str,
    *,
    territory: Territory,
    title: str = "",
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Plan:
    """A new draft plan on ``territory`` copied from one of the templates shipped with the
    portal (``plan_templates/``)."""
    template = plan_templates().get(template_key)
    if template is None:
        raise PlanError(
            _("Modèle de plan inconnu : « %(key)s ».") % {"key": template_key[:40]},
            "unknown_template",
            "template",
        )
    return do_create_plan(
        actor,
        template.document,
        territory=territory,
        title=title,
        template_key=template.key,
        request=request,
        now=now,
    )


@transaction.atomic
def do_import_version(
    actor: Any,
    plan: Plan,
    document: dict[str, Any],
    *,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> PlanVersion:
    """A new draft version of ``plan`` holding an imported document."""
    try:
        document = validate_document(document)
    except PlanContentError as error:
        raise PlanError(str(error), "invalid_plan_document") from error
    if document["level"] != plan.level:
        raise PlanError(
            _("$.level : le document est de niveau « %(doc)s », le plan de niveau « %(plan)s ».")
            % {"doc": PlanLevel(document["level"]).label, "plan": PlanLevel(plan.level).label},
            "level_mismatch",
        )
    version = _new_draft(actor, plan, document, now=now or timezone.now(), reason=_("Import"))
    record_audit("plans.version.imported", actor=actor, request=request, target=version, data={})
    return version


def _new_draft(
    actor: Any, plan: Plan, document: dict[str, Any], *, now: datetime, reason: str
) -> PlanVersion:
    Plan.objects.select_for_update().get(pk=plan.pk)  # one new version at a time
    pending = plan.versions.filter(state__in=[VersionState.DRAFT, VersionState.REVIEW]).first()
    if pending is not None:
        raise PlanError(
            _(
                "La version %(number)s est encore %(state)s : approuvez-la ou modifiez-la "
                "plutôt que d'en créer une autre."
            )
            % {"number": pending.number, "state": _state_label(pending.state).lower()},
            "pending_version",
        )
    last = plan.versions.order_by("-number").first()
    version = PlanVersion.objects.create(
        plan=plan,
        number=(last.number + 1) if last else 1,
        summary=document.get("summary", ""),
        created_at=now,
        created_by=_person(actor),
    )
    _fill_version(version, document)
    _version_transition(version, "", VersionState.DRAFT, actor, now, reason)
    return version


@transaction.atomic
def do_new_version(
    actor: Any, plan: Plan, *, request: HttpRequest | None = None, now: datetime | None = None
) -> PlanVersion:
    """A new draft copied from the latest version (to make an approved plan evolve)."""
    now = now or timezone.now()
    last = plan.versions.order_by("-number").first()
    if last is None:
        raise PlanError(_("Ce plan n'a aucune version à reprendre."), "no_version")
    document = serialize_version(last)
    document["summary"] = ""
    version = _new_draft(
        actor, plan, document, now=now, reason=_("Reprise de la version %(n)s") % {"n": last.number}
    )
    record_audit(
        "plans.version.created",
        actor=actor,
        request=request,
        target=version,
        data={"from": last.pk},
    )
    return version


@transaction.atomic
def do_replace_version_content(
    actor: Any,
    version: PlanVersion,
    document: dict[str, Any],
    *,
    expected_revision: int | None = None,
    request: HttpRequest | None = None,
) -> PlanVersion:
    """Replace the whole content of a draft (the JSON editor)."""
    version = _editable_version(version, expected_revision)
    try:
        document = validate_document(document)
    except PlanContentError as error:
        raise PlanError(str(error), "invalid_plan_document") from error
    if document["level"] != version.plan.level:
        raise PlanError(_("$.level : le niveau du plan ne peut pas changer."), "level_mismatch")
    version.sheets.all().delete()
    version.sections.all().delete()
    _fill_version(version, document)
    version.summary = document.get("summary", "")
    version.revision += 1
    version.save(update_fields=["summary", "revision"])
    record_audit("plans.version.edited", actor=actor, request=request, target=version, data={})
    return version


def _check_revision(version: PlanVersion, expected: int | None) -> None:
    if expected is not None and expected != version.revision:
        raise PlanError(
            _(
                "La version a été modifiée par quelqu'un d'autre entre-temps : rechargez la page "
                "et recommencez."
            ),
            "conflict",
        )


@transaction.atomic
def do_update_section(
    actor: Any,
    section: Section,
    *,
    title: str,
    body: str,
    trigger: str,
    expected_revision: int | None = None,
    request: HttpRequest | None = None,
) -> Section:
    version = _editable_version(section.version, expected_revision)
    title = _required_text(
        title,
        200,
        _("L'intitulé de la section est obligatoire (200 caractères au plus)."),
        "title_required",
        "title",
    )
    section.title, section.body, section.trigger = title, body.strip(), trigger.strip()
    section.save(update_fields=["title", "body", "trigger"])
    _bump(version)
    record_audit("plans.section.edited", actor=actor, request=request, target=section, data={})
    return section


def _unique_key(existing: Iterable[str], text: str) -> str:
    """A key of the exchange format (``[a-z0-9][a-z0-9-]*``) made from ``text``, unique among
    ``existing``: « Évacuer l'école » → ``evacuer-l-ecole``."""
    taken = set(existing)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    base = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:40].strip("-") or "action"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    return key


@transaction.atomic
def do_add_item(
    actor: Any,
    sheet: ReflexSheet,
    *,
    text: str,
    expected_revision: int | None = None,
    request: HttpRequest | None = None,
) -> ReflexItem:
    version = _editable_version(sheet.version, expected_revision)
    text = _required_text(
        text,
        2000,
        _("Le texte de l'action est obligatoire (2 000 caractères au plus)."),
        "text_required",
        "text",
    )
    items = list(sheet.items.all())
    item = ReflexItem.objects.create(
        sheet=sheet,
        key=_unique_key([i.key for i in items], text),
        text=text,
        order=(max(i.order for i in items) + 1) if items else 0,
    )
    _bump(version)
    record_audit("plans.item.added", actor=actor, request=request, target=item, data={})
    return item


@transaction.atomic
def do_remove_item(
    actor: Any,
    item: ReflexItem,
    *,
    expected_revision: int | None = None,
    request: HttpRequest | None = None,
) -> None:
    version = _editable_version(item.sheet.version, expected_revision)
    if item.sheet.items.count() <= 1:
        raise PlanError(_("Une fiche réflexe garde au moins une action."), "last_item", "item")
    record_audit(
        "plans.item.removed",
        actor=actor,
        request=request,
        target=item,
        data={"key": item.key, "sheet": item.sheet_id},
    )
    item.delete()
    _bump(version)


@transaction.atomic
def do_attach_document(
    actor: Any,
    version: PlanVersion,
    upload: Any,
    *,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> PlanDocument:
    """Attach an annex: type sniffed from the content (PDF, image, text — the journal's rule),
    at most 10 MB. Refused on an approved version like any edit."""
    now = now or timezone.now()
    version = _locked_version(version)
    check_editable(version)
    name = os.path.basename(getattr(upload, "name", "") or "")[:80]
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_DOCUMENT_BYTES:
        raise PlanError(
            _("« %(name)s » dépasse la taille maximale de %(max)s Mo.")
            % {"name": name, "max": MAX_DOCUMENT_BYTES // 2**20},
            "document_too_large",
            "document",
        )
    buffer = bytearray()
    for chunk in upload.chunks():
        buffer += chunk
        if len(buffer) > MAX_DOCUMENT_BYTES:
            raise PlanError(
                _("« %(name)s » dépasse la taille maximale de %(max)s Mo.")
                % {"name": name, "max": MAX_DOCUMENT_BYTES // 2**20},
                "document_too_large",
                "document",
            )
    content = bytes(buffer)
    if not content:
        raise PlanError(_("« %(name)s » est vide.") % {"name": name}, "document_empty", "document")
    content_type = sniff_content_type(content[:512])
    if content_type is None:
        raise PlanError(
            _(
                "« %(name)s » n'est pas d'un type accepté (document PDF, image JPEG, PNG, WebP, "
                "GIF ou texte) : son contenu ne correspond pas."
            )
            % {"name": name},
            "document_type",
            "document",
        )
    document = PlanDocument.objects.create(
        version=version,
        filename=safe_filename(name, ALLOWED_TYPES[content_type]),
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_by=_person(actor),
        uploaded_at=now,
    )
    _bump(version)
    record_audit(
        "plans.document.attached",
        actor=actor,
        request=request,
        target=document,
        data={"version": version.pk, "sha256": document.sha256, "size": document.size},
    )
    return document


# --- Life cycle -----------------------------------------------------------------------------


@transaction.atomic
def do_submit_for_review(
    actor: Any,
    version: PlanVersion,
    *,
    reviewers: Iterable[Any] = (),
    note: str = "",
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> PlanVersion:
    now = now or timezone.now()
    version = _locked_version(version)
    if version.state != VersionState.DRAFT:
        check_editable(version)  # frozen or in review: the precise message
    reviewers = list(reviewers)
    if not reviewers:
        raise PlanError(_("Désignez au moins un relecteur."), "reviewers_required", "reviewers")
    version.state = VersionState.REVIEW
    version.revision += 1
    version.save(update_fields=["state", "revision"])
    version.reviewers.set(reviewers)
    _version_transition(version, VersionState.DRAFT, VersionState.REVIEW, actor, now, note.strip())
    record_audit(
        "plans.version.review",
        actor=actor,
        request=request,
        target=version,
        data={"reviewers": [u.pk for u in reviewers]},
    )
    return version


@transaction.atomic
def do_comment_version(
    actor: Any,
    version: PlanVersion,
    *,
    text: str,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> VersionComment:
    now = now or timezone.now()
    version = _locked_version(version)
    if version.state != VersionState.REVIEW:
        raise PlanError(
            _("On ne commente qu'une version en relecture (celle-ci est %(state)s).")
            % {"state": _state_label(version.state).lower()},
            "invalid_transition",
        )
    text = (text or "").strip()
    if not text or len(text) > MAX_COMMENT:
        raise PlanError(
            _("Le commentaire est obligatoire (2 000 caractères au plus)."),
            "text_required",
            "text",
        )
    comment = VersionComment.objects.create(version=version, author=actor, text=text, at=now)
    record_audit("plans.version.commented", actor=actor, request=request, target=version, data={})
    return comment


@transaction.atomic
def do_return_to_draft(
    actor: Any,
    version: PlanVersion,
    *,
    reason: str,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> PlanVersion:
    now = now or timezone.now()
    version = _locked_version(version)
    if version.state != VersionState.REVIEW:
        check_editable(version)
        raise PlanError(_("Cette version est déjà en brouillon."), "invalid_transition")
    reason = (reason or "").strip()
    if not reason:
        raise PlanError(_("Indiquez le motif du renvoi en brouillon."), "reason_required", "reason")
    version.state = VersionState.DRAFT
    version.revision += 1
    version.save(update_fields=["state", "revision"])
    _version_transition(version, VersionState.REVIEW, VersionState.DRAFT, actor, now, reason)
    record_audit("plans.version.returned", actor=actor, request=request, target=version, data={})
    return version


@transaction.atomic
def do_approve_version(
    actor: Any,
    version: PlanVersion,
    *,
    decree_number: str,
    decree_date: date,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> PlanVersion:
    """Approve a version in review (arrêté number and date): the previous approved version is
    superseded; the plan's review falls due 5 years after the arrêté."""
    now = now or timezone.now()
    version = _locked_version(version)
    if version.state != VersionState.REVIEW:
        if version.is_frozen:
            check_editable(version)
        raise PlanError(
            _("Seule une version en relecture peut être approuvée (celle-ci est %(state)s).")
            % {"state": _state_label(version.state).lower()},
            "invalid_transition",
        )
    decree_number = _required_text(
        decree_number,
        60,
        _("Le numéro de l'arrêté d'approbation est obligatoire (60 caractères au plus)."),
        "decree_number_required",
        "decree_number",
    )
    if decree_date is None:
        raise PlanError(
            _("La date de l'arrêté est obligatoire."), "decree_date_required", "decree_date"
        )
    if decree_date > timezone.localdate(now):
        raise PlanError(
            _("La date de l'arrêté ne peut pas être dans le futur."),
            "decree_date_future",
            "decree_date",
        )
    previous = list(
        PlanVersion.objects.select_for_update()
        .filter(plan=version.plan, state=VersionState.APPROVED)
        .exclude(pk=version.pk)
    )
    for old in previous:
        old.state = VersionState.SUPERSEDED
        old.revision += 1
        old.save(update_fields=["state", "revision"])
        _version_transition(
            old,
            VersionState.APPROVED,
            VersionState.SUPERSEDED,
            actor,
            now,
            _("Remplacée par la version %(n)s") % {"n": version.number},
        )
    version.state = VersionState.APPROVED
    version.decree_number = decree_number
    version.decree_date = decree_date
    version.approved_by = _person(actor)
    version.approved_at = now
    version.revision += 1
    version.save(
        update_fields=[
            "state",
            "decree_number",
            "decree_date",
            "approved_by",
            "approved_at",
            "revision",
        ]
    )
    _version_transition(
        version,
        VersionState.REVIEW,
        VersionState.APPROVED,
        actor,
        now,
        _("Arrêté n° %(n)s du %(d)s")
        % {"n": decree_number, "d": formats.date_format(decree_date, "SHORT_DATE_FORMAT")},
    )
    plan = version.plan
    plan.review_due = add_years(decree_date, REVIEW_EVERY_YEARS)
    plan.save(update_fields=["review_due"])
    record_audit(
        "plans.version.approved",
        actor=actor,
        request=request,
        target=version,
        data={
            "decree_number": decree_number,
            "decree_date": decree_date.isoformat(),
            "superseded": [v.pk for v in previous],
        },
    )
    return version


@transaction.atomic
def do_record_exercise(
    actor: Any,
    plan: Plan,
    *,
    held_on: date,
    title: str,
    notes: str = "",
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> PlanExercise:
    now = now or timezone.now()
    title = _required_text(
        title,
        200,
        _("L'intitulé de l'exercice est obligatoire (200 caractères au plus)."),
        "title_required",
        "title",
    )
    if held_on is None or held_on > timezone.localdate(now):
        raise PlanError(
            _("La date de l'exercice est obligatoire et ne peut pas être dans le futur."),
            "held_on_invalid",
            "held_on",
        )
    exercise = PlanExercise.objects.create(
        plan=plan,
        held_on=held_on,
        title=title,
        notes=(notes or "").strip()[:10_000],
        recorded_by=_person(actor),
        recorded_at=now,
    )
    record_audit(
        "plans.exercise.recorded",
        actor=actor,
        request=request,
        target=plan,
        data={"exercise": exercise.pk, "held_on": held_on.isoformat()},
    )
    return exercise


# --- Activation -----------------------------------------------------------------------------


def resolve_actor(kind: str, event: Event) -> list[Organisation]:
    """The organisations that play the actor ``kind`` on ``event``.

    * ``mairie``: the mairies of the event's communes (or of its territory when a commune);
    * any other kind: the active organisations of that kind on the closest territory holding
      one, from the event's territory upwards (département → région → zone → national):
      SDIS 37 and COD 37 for an Indre-et-Loire event, the ARS of the région.
    """
    organisations = Organisation.objects.filter(is_active=True, kind=kind).select_related(
        "territory"
    )
    if kind == OrganisationKind.MAIRIE:
        communes = list(
            EventCommune.objects.filter(event=event).values_list("commune_path", flat=True)
        )
        if not communes and event.territory.kind == TerritoryKind.COMMUNE:
            communes = [event.territory_path]
        return list(organisations.filter(territory__path__in=communes).order_by("name"))
    parts = event.territory_path.split("/")
    ladder = ["/".join(parts[:n]) for n in range(len(parts), 0, -1)]
    found = list(organisations.filter(territory__path__in=ladder))
    for path in ladder:
        here = sorted((o for o in found if o.territory.path == path), key=lambda o: o.name)
        if here:
            return here
    return []


def plan_applies_to(plan: Plan, event: Event) -> bool:
    """The plan's territory is the event's, above it, or one of the event's communes."""
    path = plan.territory_path
    if event.territory_path == path or event.territory_path.startswith(path + "/"):
        return True
    return EventCommune.objects.filter(event=event, commune_path=path).exists()


def _lock_open_event(event: Event) -> Event:
    locked = Event.objects.select_for_update().select_related("territory").get(pk=event.pk)
    if not locked.is_open:
        raise PlanError(
            _("L'événement est clos : on ne peut plus y activer de plan ni cocher d'action."),
            "event_closed",
        )
    return locked


def _org_label(organisation: Organisation | None) -> str:
    if organisation is None:
        return _("acteur non trouvé dans l'annuaire")
    return organisation.short_name or organisation.name


def _live(event: Event, payload: dict[str, Any]) -> None:
    queue_live_message([event_topic(event.pk)], "plan.checklist", payload, mode=event.mode)


@transaction.atomic
def do_activate_plan(
    actor: Any,
    event: Event,
    version: PlanVersion,
    sections: Iterable[Section],
    *,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Activation:
    """Activate ``sections`` of an approved ``version`` on ``event``: a checklist per actor
    organisation built from the fiches réflexes of those sections, a journal entry describing
    the activation, disseminated to the actor organisations (each acknowledges its delivery)."""
    now = now or timezone.now()
    event = _lock_open_event(event)
    version = PlanVersion.objects.select_for_update().select_related("plan").get(pk=version.pk)
    if version.state != VersionState.APPROVED:
        raise PlanError(
            _(
                "Seule la version approuvée d'un plan peut être activée : la version %(n)s est "
                "%(state)s."
            )
            % {"n": version.number, "state": _state_label(version.state).lower()},
            "version_not_approved",
        )
    if not plan_applies_to(version.plan, event):
        raise PlanError(
            _(
                "Le plan « %(plan)s » ne couvre pas le territoire de l'événement : seuls les "
                "plans de son territoire, des territoires au-dessus ou de ses communes "
                "s'activent."
            )
            % {"plan": version.plan.title},
            "plan_not_applicable",
        )
    chosen = list(sections)
    if not chosen:
        raise PlanError(_("Choisissez au moins une section à activer."), "sections_required")
    if any(s.version_id != version.pk for s in chosen):
        raise PlanError(
            _("Une section choisie n'appartient pas à cette version du plan."), "unknown_section"
        )
    active_sections = set(
        Activation.sections.through.objects.filter(
            activation__event=event,
            activation__state=ActivationState.ACTIVE,
            section__in=chosen,
        ).values_list("section__title", flat=True)
    )
    if active_sections:
        raise PlanError(
            _("Déjà activé sur cet événement : %(names)s.")
            % {"names": ", ".join(sorted(active_sections))},
            "already_active",
        )
    activation = Activation.objects.create(
        event=event, version=version, activated_at=now, activated_by=_person(actor)
    )
    activation.sections.set(chosen)
    sheets = (
        ReflexSheet.objects.filter(section__in=chosen)
        .select_related("section")
        .prefetch_related("items")
        .order_by("section__order", "order", "pk")
    )
    resolved: dict[str, list[Organisation]] = {}
    rows: list[ChecklistItem] = []
    order = 0
    for sheet in sheets:
        if sheet.actor_kind not in resolved:
            resolved[sheet.actor_kind] = resolve_actor(sheet.actor_kind, event)
        targets: list[Organisation | None] = list(resolved[sheet.actor_kind]) or [None]
        for organisation in targets:
            for item in sheet.items.all():
                rows.append(
                    ChecklistItem(
                        activation=activation,
                        event=event,
                        organisation=organisation,
                        actor_kind=sheet.actor_kind,
                        phase=sheet.phase,
                        section_title=sheet.section.title,
                        sheet_title=sheet.title,
                        text=item.text,
                        order=order,
                    )
                )
                order += 1
    ChecklistItem.objects.bulk_create(rows)
    organisations = {o.pk: o for orgs in resolved.values() for o in orgs}
    missing = sorted(
        str(OrganisationKind(k).label) if k in OrganisationKind.values else k
        for k, orgs in resolved.items()
        if not orgs
    )
    plan = version.plan
    text = _(
        "Activation du plan « %(plan)s » (version %(n)s, arrêté n° %(decree)s) — "
        "sections : %(sections)s. Fiches réflexes transmises à : %(actors)s."
    ) % {
        "plan": plan.title,
        "n": version.number,
        "decree": version.decree_number,
        "sections": ", ".join(s.title for s in chosen),
        "actors": ", ".join(_org_label(o) for o in organisations.values()) or "—",
    }
    if missing:
        text += " " + _("Acteurs absents de l'annuaire : %(kinds)s.") % {
            "kinds": ", ".join(missing)
        }
    entry = append_entry(
        chain_for_event(event),
        kind=EntryKind.DECISION,
        channel=Channel.PORTAL,
        author=actor,
        organisation=acting_organisation(actor),
        text=text,
        subject=activation,
        is_highlight=True,
        data={
            "activation": activation.pk,
            "plan": plan.pk,
            "version": version.pk,
            "sections": [s.pk for s in chosen],
        },
        now=now,
    )
    activation.journal_entry = entry
    activation.save(update_fields=["journal_entry"])
    if organisations:
        try:
            do_disseminate_entry(
                actor,
                entry,
                event=event,
                organisations=list(organisations.values()),
                use_rules=False,
                note=_("Prenez en compte vos fiches réflexes."),
                request=request,
                now=now,
            )
        except DisseminationError as error:
            raise PlanError(str(error), error.code) from error
    ActivationTransition.objects.create(
        activation=activation,
        old="",
        new=ActivationState.ACTIVE,
        actor=_person(actor),
        at=now,
        reason=", ".join(s.title for s in chosen),
    )
    record_audit(
        "plans.activation.activated",
        actor=actor,
        request=request,
        target=activation,
        data={
            "event": event.pk,
            "version": version.pk,
            "sections": [s.pk for s in chosen],
            "organisations": sorted(organisations),
            "items": len(rows),
        },
    )
    _live(event, {"event": event.pk, "activation": activation.pk})
    # the alert call trees (schémas d'alerte) of the event's type, resolved against the on-call
    # rosters now, in the same transaction (idempotent: a scheme already started is skipped)
    start_call_lists_for_event(actor, event, request=request, now=now)
    return activation


@transaction.atomic
def do_deactivate_plan(
    actor: Any,
    activation: Activation,
    *,
    reason: str,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Activation:
    now = now or timezone.now()
    locked = (
        Activation.objects.select_for_update().select_related("version__plan").get(pk=activation.pk)
    )
    event = _lock_open_event(Event.objects.get(pk=locked.event_id))
    if not locked.is_active:
        raise PlanError(_("Cette activation est déjà levée."), "invalid_transition")
    reason = (reason or "").strip()
    if not reason:
        raise PlanError(_("Indiquez le motif de la désactivation."), "reason_required", "reason")
    try:
        reason = check_text(reason, field="reason", label=_("Le motif"))
    except JournalError as error:
        raise PlanError(str(error), error.code, "reason") from error
    locked.state = ActivationState.ENDED
    locked.ended_at = now
    locked.ended_by = _person(actor)
    locked.save(update_fields=["state", "ended_at", "ended_by"])
    ActivationTransition.objects.create(
        activation=locked,
        old=ActivationState.ACTIVE,
        new=ActivationState.ENDED,
        actor=_person(actor),
        at=now,
        reason=reason,
    )
    done = locked.items.filter(done=True).count()
    total = locked.items.count()
    append_entry(
        chain_for_event(event),
        kind=EntryKind.DECISION,
        channel=Channel.PORTAL,
        author=actor,
        organisation=acting_organisation(actor),
        text=_(
            "Désactivation du plan « %(plan)s » (version %(n)s) : %(reason)s. "
            "Actions réalisées : %(done)s sur %(total)s."
        )
        % {
            "plan": locked.version.plan.title,
            "n": locked.version.number,
            "reason": reason,
            "done": done,
            "total": total,
        },
        subject=locked,
        data={"activation": locked.pk, "done": done, "total": total},
        now=now,
    )
    record_audit(
        "plans.activation.ended",
        actor=actor,
        request=request,
        target=locked,
        data={"event": event.pk, "reason": reason},
    )
    _live(event, {"event": event.pk, "activation": locked.pk})
    return locked


def _locked_item(item: ChecklistItem) -> tuple[ChecklistItem, Event]:
    locked = (
        ChecklistItem.objects.select_for_update(of=("self",))
        .select_related("activation", "organisation")
        .get(pk=item.pk)
    )
    if not locked.activation.is_active:
        raise PlanError(
            _("Ce plan a été désactivé : ses actions ne se cochent plus."), "activation_ended"
        )
    event = Event.objects.select_related("territory").get(pk=locked.event_id)
    if not event.is_open:
        raise PlanError(_("L'événement est clos."), "event_closed")
    return locked, event


@transaction.atomic
def do_tick_item(
    actor: Any,
    item: ChecklistItem,
    *,
    done: bool,
    expected_revision: int,
    comment: str = "",
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ChecklistItem:
    """Mark an item done (or not done again). ``expected_revision`` is the revision the user
    saw: a stale one (someone else ticked meanwhile) is refused with ``conflict``."""
    now = now or timezone.now()
    locked, event = _locked_item(item)
    if expected_revision != locked.revision:
        raise PlanError(
            _(
                "Cette action a été mise à jour par %(who)s entre-temps : rechargez la liste "
                "avant de la modifier."
            )
            % {"who": _person_label(locked.done_by) if locked.done_by else _("un autre agent")},
            "conflict",
        )
    if locked.done == done:
        raise PlanError(
            _("Cette action est déjà marquée « %(state)s ».")
            % {"state": _("faite") if done else _("à faire")},
            "conflict",
        )
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise PlanError(
            _("Le commentaire dépasse 2 000 caractères."), "comment_too_long", "comment"
        )
    locked.done = done
    locked.done_at = now if done else None
    locked.done_by = _person(actor) if done else None
    locked.revision += 1
    if comment:
        locked.last_comment = comment
    locked.save(update_fields=["done", "done_at", "done_by", "revision", "last_comment"])
    text = (
        (_("Fait") if done else _("Remis à faire"))
        + " — "
        + _("%(actor)s, %(sheet)s : %(text)s")
        % {
            "actor": _org_label(locked.organisation),
            "sheet": locked.sheet_title,
            "text": locked.text,
        }
    )
    if comment:
        text += "\n" + _("Commentaire : %(c)s") % {"c": comment}
    append_entry(
        chain_for_event(event),
        kind=EntryKind.ACTION,
        channel=Channel.PORTAL,
        author=actor,
        organisation=acting_organisation(actor),
        text=text,
        subject=locked,
        data={"checklist_item": locked.pk, "done": done, "activation": locked.activation_id},
        now=now,
    )
    record_audit(
        "plans.item.ticked",
        actor=actor,
        request=request,
        target=locked,
        data={"done": done, "event": event.pk},
    )
    _live(
        event,
        {
            "event": event.pk,
            "activation": locked.activation_id,
            "item": locked.pk,
            "organisation": locked.organisation_id,
        },
    )
    return locked


@transaction.atomic
def do_comment_item(
    actor: Any,
    item: ChecklistItem,
    *,
    text: str,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ChecklistItem:
    now = now or timezone.now()
    locked, event = _locked_item(item)
    try:
        clean = check_text(text, field="text", label=_("Le commentaire"))
    except JournalError as error:
        raise PlanError(str(error), error.code, "text") from error
    if len(clean) > MAX_COMMENT:
        raise PlanError(_("Le commentaire dépasse 2 000 caractères."), "comment_too_long", "text")
    locked.last_comment = clean
    locked.revision += 1
    locked.save(update_fields=["last_comment", "revision"])
    append_entry(
        chain_for_event(event),
        kind=EntryKind.INFORMATION,
        channel=Channel.PORTAL,
        author=actor,
        organisation=acting_organisation(actor),
        text=_("Commentaire — %(actor)s, %(sheet)s : %(text)s\n%(comment)s")
        % {
            "actor": _org_label(locked.organisation),
            "sheet": locked.sheet_title,
            "text": locked.text,
            "comment": clean,
        },
        subject=locked,
        data={"checklist_item": locked.pk, "activation": locked.activation_id},
        now=now,
    )
    record_audit("plans.item.commented", actor=actor, request=request, target=locked, data={})
    _live(
        event,
        {
            "event": event.pk,
            "activation": locked.activation_id,
            "item": locked.pk,
            "organisation": locked.organisation_id,
        },
    )
    return locked


def _person_label(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""
