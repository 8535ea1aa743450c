"""The only writers of main courante entries on a user's behalf.

Each action, in one transaction: checks the journal's rules (text, dates, correction target…),
stores the attachments, appends the entry with :func:`orsec.journal.chain.append_entry` (which
queues the live message), and records the audit. Callers obtained the chain through an
access-checked event or watch log and checked the ``write_journal`` ability; the actions check
the *rules* and raise :class:`JournalError` with a precise French message and a stable code.

The journal never imports event code: an event's dates are read through the chain's foreign key.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from orsec.accounts.models import Membership
from orsec.audit.actions import record_audit
from orsec.journal.chain import append_entry
from orsec.journal.files import (
    MAX_ATTACHMENTS_PER_ENTRY,
    AttachmentError,
    StoredFile,
    store_uploads,
)
from orsec.journal.models import (
    BEFORE_OPENING,
    FUTURE_SKEW,
    Channel,
    Confidentiality,
    EntryKind,
    Highlight,
    JournalChain,
    JournalEntry,
)

#: Longest text of one entry (a long point de situation fits; a pasted book does not).
MAX_TEXT_LENGTH = 10_000
#: Longest reason of a correction.
MAX_REASON_LENGTH = 1_000
#: How far back a watch log entry (no event yet) may be dated.
WATCH_LOG_PAST = timedelta(days=7)
#: Kinds a person may choose (state changes are written by the event's actions only).
USER_KINDS = tuple(k for k in EntryKind.values if k != EntryKind.STATE_CHANGE)
#: Channels a person may choose (``system`` is the portal's own voice).
USER_CHANNELS = tuple(c for c in Channel.values if c != Channel.SYSTEM)

_CONFIDENTIALITY_RANK = {
    Confidentiality.PUBLIC: 0,
    Confidentiality.INTERNAL: 1,
    Confidentiality.RESTRICTED: 2,
}


class JournalError(ValueError):
    """A write the journal's rules refuse; ``str(error)`` is the French message for the user."""

    def __init__(self, message: str, code: str = "journal_rule", field: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.field = field


def acting_organisation(user: Any) -> Any:
    """The organisation a user writes for: their first active membership's (or ``None``)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    membership = (
        Membership.objects.filter(user=user, is_active=True, organisation__is_active=True)
        .select_related("organisation")
        .order_by("pk")
        .first()
    )
    return membership.organisation if membership else None


def _local(value: datetime) -> str:
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def check_text(text: str, *, field: str = "text", label: str = "") -> str:
    """The stripped text, or :class:`JournalError` when empty or too long."""
    clean = (text or "").strip()
    label = label or _("Le texte")
    if not clean:
        raise JournalError(
            _("%(label)s de l'entrée est obligatoire.") % {"label": label}, "text_required", field
        )
    if "\x00" in clean:
        raise JournalError(
            _("%(label)s contient un caractère nul, interdit.") % {"label": label},
            "text_invalid",
            field,
        )
    if len(clean) > MAX_TEXT_LENGTH:
        raise JournalError(
            _("%(label)s dépasse %(max)s caractères (%(n)s saisis).")
            % {"label": label, "max": MAX_TEXT_LENGTH, "n": len(clean)},
            "text_too_long",
            field,
        )
    return clean


def check_occurred_at(chain: JournalChain, occurred_at: datetime | None, now: datetime) -> datetime:
    """``occurred_at`` within bounds: not in the future (beyond a small clock skew), not before
    the event's opening minus 24 h (a watch log: not older than 7 days)."""
    if occurred_at is None:
        return now
    if timezone.is_naive(occurred_at):
        raise JournalError(
            _("La date de survenue doit préciser son fuseau horaire."),
            "occurred_at_naive",
            "occurred_at",
        )
    try:
        occurred_at = occurred_at.astimezone(UTC)
        timezone.localtime(occurred_at)
    except (OverflowError, ValueError):
        raise JournalError(
            _("La date de survenue est hors des dates admises."),
            "occurred_at_invalid",
            "occurred_at",
        ) from None
    if occurred_at > now + FUTURE_SKEW:
        raise JournalError(
            _(
                "La date de survenue (%(at)s) est dans le futur : elle ne peut pas dépasser "
                "l'heure actuelle (%(now)s) de plus de 5 minutes."
            )
            % {"at": _local(occurred_at), "now": _local(now)},
            "occurred_at_future",
            "occurred_at",
        )
    event = chain.event if chain.event_id else None
    if event is not None:
        earliest = event.opened_at - BEFORE_OPENING
        if occurred_at < earliest:
            raise JournalError(
                _(
                    "La date de survenue (%(at)s) est antérieure de plus de 24 heures à "
                    "l'ouverture de l'événement (%(opened)s)."
                )
                % {"at": _local(occurred_at), "opened": _local(event.opened_at)},
                "occurred_at_before_event",
                "occurred_at",
            )
    elif occurred_at < now - WATCH_LOG_PAST:
        raise JournalError(
            _(
                "La date de survenue (%(at)s) est trop ancienne : la main courante de veille "
                "accepte 7 jours d'antériorité au plus."
            )
            % {"at": _local(occurred_at)},
            "occurred_at_too_old",
            "occurred_at",
        )
    return occurred_at


def _check_open(chain: JournalChain) -> None:
    if chain.event_id and chain.event is not None and chain.event.closed_at is not None:
        raise JournalError(
            _("L'événement est clos : sa main courante n'accepte plus d'entrée."), "event_closed"
        )


def _check_choice(value: str, allowed: Iterable[str], code: str, field: str, label: str) -> None:
    if value not in allowed:
        raise JournalError(
            _("%(label)s « %(value)s » n'est pas admis.") % {"label": label, "value": value[:40]},
            code,
            field,
        )


def _store_files(files: Iterable[Any]) -> list[StoredFile]:
    uploads = list(files)
    if len(uploads) > MAX_ATTACHMENTS_PER_ENTRY:
        raise JournalError(
            _("%(max)s pièces jointes au plus par entrée.") % {"max": MAX_ATTACHMENTS_PER_ENTRY},
            "too_many_attachments",
            "attachments",
        )
    try:
        return store_uploads(uploads)  # all or nothing
    except AttachmentError as error:
        raise JournalError(str(error), "attachment_refused", "attachments") from error


@transaction.atomic
def do_add_entry(
    actor: Any,
    chain: JournalChain,
    *,
    kind: str,
    text: str,
    channel: str,
    occurred_at: datetime | None = None,
    confidentiality: str = Confidentiality.INTERNAL,
    organisation: Any = None,
    is_highlight: bool = False,
    files: Iterable[Any] = (),
    data: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> JournalEntry:
    """Write one entry typed by a person (or a partner system) into ``chain``.

    ``files`` are uploaded files (``UploadedFile``) checked and stored here, or
    :class:`~orsec.journal.files.StoredFile` already stored. Every check runs before any file
    is stored, so a refused entry writes nothing.
    """
    now = now or timezone.now()
    _check_open(chain)
    _check_choice(kind, USER_KINDS, "invalid_kind", "kind", _("La nature"))
    _check_choice(channel, USER_CHANNELS, "invalid_channel", "channel", _("Le canal"))
    _check_choice(
        confidentiality,
        Confidentiality.values,
        "invalid_confidentiality",
        "confidentiality",
        _("Le niveau de confidentialité"),
    )
    clean = check_text(text)
    when = check_occurred_at(chain, occurred_at, now)
    if organisation is None:
        organisation = acting_organisation(actor)
    stored = _store_files(files)
    entry = append_entry(
        chain,
        kind=kind,
        text=clean,
        channel=channel,
        author=actor,
        organisation=organisation,
        occurred_at=when,
        confidentiality=confidentiality,
        is_highlight=is_highlight,
        data=data,
        files=stored,
        now=now,
    )
    record_audit(
        "journal.entry.added",
        actor=actor,
        request=request,
        target=entry,
        data={"chain": chain.pk, "seq": entry.seq, "attachments": len(stored)},
    )
    return entry


@transaction.atomic
def do_correct_entry(
    actor: Any,
    entry: JournalEntry,
    *,
    text: str,
    reason: str,
    occurred_at: datetime | None = None,
    confidentiality: str | None = None,
    organisation: Any = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> JournalEntry:
    """Correct ``entry`` with a NEW entry pointing to it (``corrects``); the original never
    changes. The correction keeps the original's kind and channel and is never less
    confidential than it."""
    now = now or timezone.now()
    chain = entry.chain
    _check_open(chain)
    if entry.kind == EntryKind.STATE_CHANGE or entry.author_id is None:
        raise JournalError(
            _(
                "L'entrée n° %(seq)s est écrite par le portail (changement d'état) : elle ne se "
                "corrige pas. Ajoutez une entrée."
            )
            % {"seq": entry.seq},
            "not_correctable",
        )
    clean = check_text(text)
    motive = (reason or "").strip()
    if not motive:
        raise JournalError(
            _("Le motif de la correction est obligatoire."), "reason_required", "reason"
        )
    if len(motive) > MAX_REASON_LENGTH:
        raise JournalError(
            _("Le motif dépasse %(max)s caractères.") % {"max": MAX_REASON_LENGTH},
            "reason_too_long",
            "reason",
        )
    label = confidentiality or entry.confidentiality
    _check_choice(
        label,
        Confidentiality.values,
        "invalid_confidentiality",
        "confidentiality",
        _("Le niveau de confidentialité"),
    )
    if (
        _CONFIDENTIALITY_RANK[Confidentiality(label)]
        < _CONFIDENTIALITY_RANK[Confidentiality(entry.confidentiality)]
    ):
        label = entry.confidentiality  # a correction never widens the audience of a fact
    when = check_occurred_at(chain, occurred_at, now) if occurred_at else entry.occurred_at
    correction = append_entry(
        chain,
        kind=entry.kind,
        text=clean,
        channel=entry.channel,
        author=actor,
        organisation=organisation if organisation is not None else acting_organisation(actor),
        occurred_at=when,
        qualification=entry.qualification,
        confidentiality=label,
        corrects=entry,
        data={"corrects_seq": entry.seq, "reason": motive},
        now=now,
    )
    record_audit(
        "journal.entry.corrected",
        actor=actor,
        request=request,
        target=correction,
        data={"corrects": entry.pk, "seq": correction.seq},
    )
    return correction


@transaction.atomic
def do_pin_entry(
    actor: Any,
    entry: JournalEntry,
    *,
    organisation: Any = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> Highlight:
    """Pin ``entry`` as a fait marquant (a :class:`Highlight` row; the entry never changes)."""
    now = now or timezone.now()
    locked = JournalEntry.objects.select_for_update().get(pk=entry.pk)
    _check_open(locked.chain)
    if locked.is_highlight or Highlight.objects.filter(entry=locked).exists():
        raise JournalError(
            _("L'entrée n° %(seq)s est déjà un fait marquant.") % {"seq": locked.seq},
            "already_pinned",
        )
    highlight = Highlight.objects.create(entry=locked, pinned_by=actor, pinned_at=now)
    append_entry(
        locked.chain,
        kind=EntryKind.STATE_CHANGE,
        channel=Channel.PORTAL,
        author=actor,
        organisation=organisation if organisation is not None else acting_organisation(actor),
        confidentiality=locked.confidentiality,
        subject=locked,
        text=_("Fait marquant épinglé : entrée n° %(seq)s.") % {"seq": locked.seq},
        data={"pinned_seq": locked.seq},
        now=now,
    )
    record_audit(
        "journal.entry.pinned", actor=actor, request=request, target=locked, data={"pin": True}
    )
    return highlight


@transaction.atomic
def do_unpin_entry(
    actor: Any,
    entry: JournalEntry,
    *,
    organisation: Any = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> None:
    """Remove a pin (the Highlight row goes; the main courante records who and when)."""
    now = now or timezone.now()
    locked = JournalEntry.objects.select_for_update().get(pk=entry.pk)
    _check_open(locked.chain)
    deleted, _rows = Highlight.objects.filter(entry=locked).delete()
    if not deleted:
        raise JournalError(
            _("L'entrée n° %(seq)s n'est pas un fait marquant épinglé.") % {"seq": locked.seq},
            "not_pinned",
        )
    append_entry(
        locked.chain,
        kind=EntryKind.STATE_CHANGE,
        channel=Channel.PORTAL,
        author=actor,
        organisation=organisation if organisation is not None else acting_organisation(actor),
        confidentiality=locked.confidentiality,
        subject=locked,
        text=_("Fait marquant retiré : entrée n° %(seq)s.") % {"seq": locked.seq},
        data={"unpinned_seq": locked.seq},
        now=now,
    )
    record_audit(
        "journal.entry.pinned", actor=actor, request=request, target=locked, data={"pin": False}
    )


# --- Typed constructors (netflix/dispatch style) -----------------------------------------------


def log_information(actor: Any, chain: JournalChain, text: str, **kwargs: Any) -> JournalEntry:
    return do_add_entry(actor, chain, kind=EntryKind.INFORMATION, text=text, **kwargs)


def log_decision(actor: Any, chain: JournalChain, text: str, **kwargs: Any) -> JournalEntry:
    return do_add_entry(actor, chain, kind=EntryKind.DECISION, text=text, **kwargs)


def log_request(actor: Any, chain: JournalChain, text: str, **kwargs: Any) -> JournalEntry:
    return do_add_entry(actor, chain, kind=EntryKind.REQUEST, text=text, **kwargs)


def log_bilan(actor: Any, chain: JournalChain, text: str, **kwargs: Any) -> JournalEntry:
    return do_add_entry(actor, chain, kind=EntryKind.BILAN, text=text, **kwargs)


def log_situation(actor: Any, chain: JournalChain, text: str, **kwargs: Any) -> JournalEntry:
    return do_add_entry(actor, chain, kind=EntryKind.SITUATION, text=text, **kwargs)
