"""Polling of MeteoAlarm CAP-over-Atom feeds (``ORSEC_METEOALARM_FEEDS``).

One poll of one feed:

1. ``GET`` the Atom feed through the hardened client (:func:`orsec.core.net.outbound_get`):
   allow-listed hosts only (``ORSEC_METEOALARM_ALLOWED_HOSTS``), timeout, size cap, no redirect
   followed, conditional (``If-None-Match`` / ``If-Modified-Since`` from the last answer; a 304
   ends the poll).
2. Parse it with the secure XML parser; each ``<entry>`` names its CAP alert by a ``<link>`` of
   type ``application/cap+xml`` (MeteoAlarm: one entry per area, several entries share one
   alert; the link is fetched once per poll) and by ``cap:identifier`` — an alert already
   imported is not fetched again.
3. ``GET`` each new CAP alert (same client and rules) and import it with
   :func:`orsec.alerts.actions.do_import_meteoalarm` (Update/Cancel/AllClear handled there).
4. Record the outcome: :func:`orsec.alerts.actions.do_record_feed_poll`.

Nothing here raises for bad input: an unreachable feed, a refused host, malformed XML, an
invalid or out-of-profile CAP alert become errors recorded on the feed's state (shown on
``/alertes/vigilances/`` and in the admin); the other entries are still imported.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from orsec.alerts.actions import do_import_meteoalarm, do_record_feed_poll
from orsec.alerts.models import ImportedCapAlert, VigilanceFeedState
from orsec.core.net import OutboundRefused, OutboundResponse, OutboundUnreachable, outbound_get
from orsec.interop.errors import InteropError, InvalidMessage
from orsec.interop.secure import parse_xml

logger = logging.getLogger(__name__)

ATOM = "http://www.w3.org/2005/Atom"
CAP_NAMESPACES = ("urn:oasis:names:tc:emergency:cap:1.2", "urn:oasis:names:tc:emergency:cap:1.1")
CAP_LINK_TYPES = ("application/cap+xml", "application/xml", "text/xml")
MAX_FEED_BYTES = 5 * 1024 * 1024
MAX_CAP_BYTES = 1024 * 1024
#: CAP alerts fetched per poll and feed at most (the rest waits for the next poll)
MAX_ALERTS_PER_POLL = 200
FEED_ERRORS_KEPT = 20
USER_AGENT = "Portail-ORSEC (vigilances MeteoAlarm)"


@dataclass
class FeedEntry:
    identifier: str
    cap_url: str


@dataclass
class PollOutcome:
    url: str
    status: str = ""
    not_modified: bool = False
    etag: str = ""
    last_modified: str = ""
    entries: int = 0
    imported: int = 0
    duplicates: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def reached(self) -> bool:
        """The feed itself was read (even if some alerts failed)."""
        return not any(error["url"] == self.url for error in self.errors)

    def error(self, url: str, code: str, message: str) -> None:
        if len(self.errors) < FEED_ERRORS_KEPT:
            self.errors.append({"url": url[:500], "code": code, "message": message[:500]})


def configured_feeds() -> list[str]:
    return [url for url in getattr(settings, "ORSEC_METEOALARM_FEEDS", []) if url]


def _get(url: str, headers: dict[str, str], max_bytes: int) -> OutboundResponse:
    return outbound_get(
        url,
        {"User-Agent": USER_AGENT, **headers},
        allowed_hosts=getattr(settings, "ORSEC_METEOALARM_ALLOWED_HOSTS", []),
        allow_http_loopback=getattr(settings, "ORSEC_OUTBOUND_ALLOW_HTTP_LOOPBACK", False),
        timeout=float(getattr(settings, "ORSEC_METEOALARM_TIMEOUT_SECONDS", 10)),
        max_response_bytes=max_bytes,
        keep_headers=("ETag", "Last-Modified", "Content-Type"),
    )


def _fetch(outcome: PollOutcome, url: str, headers: dict[str, str], max_bytes: int) -> Any:
    """The response, or None after recording why it is unusable."""
    try:
        response = _get(url, headers, max_bytes)
    except (OutboundRefused, OutboundUnreachable) as error:
        outcome.error(url, error.code, str(error))
        return None
    if response.status == 304:
        return response
    if not 200 <= response.status < 300:
        if 300 <= response.status < 400:
            message = _("Redirection non suivie (HTTP %(status)s vers %(location)s).") % {
                "status": response.status,
                "location": response.location or "?",
            }
        else:
            message = _("Réponse HTTP %(status)s %(reason)s.") % {
                "status": response.status,
                "reason": response.reason,
            }
        outcome.error(url, "http_status", message)
        return None
    if response.truncated:
        outcome.error(
            url,
            "too_large",
            _("Réponse trop volumineuse (plus de %(max)s octets) : ignorée.") % {"max": max_bytes},
        )
        return None
    return response


def _text(element: Any) -> str:
    return (element.text or "").strip() if element is not None else ""


def parse_feed(data: bytes) -> list[FeedEntry]:
    """The CAP alerts an Atom feed announces (in feed order, one per CAP link).

    Raises ``InteropError`` for hostile or malformed XML, or XML that is not an Atom feed.
    """
    root = parse_xml(data, max_bytes=MAX_FEED_BYTES)
    if root.tag != f"{{{ATOM}}}feed":
        raise InvalidMessage(
            "feed_not_atom", _("Ce n'est pas un flux Atom (élément racine inattendu)."), "/"
        )
    entries: list[FeedEntry] = []
    seen: set[str] = set()
    for entry in root.iterchildren(f"{{{ATOM}}}entry"):
        identifier = ""
        for namespace in CAP_NAMESPACES:
            identifier = identifier or _text(entry.find(f"{{{namespace}}}identifier"))
        cap_url = ""
        for link in entry.iterchildren(f"{{{ATOM}}}link"):
            if (link.get("type") or "").split(";")[0].strip() in CAP_LINK_TYPES and link.get(
                "href"
            ):
                cap_url = str(link.get("href")).strip()
                break
        if cap_url and cap_url not in seen:
            seen.add(cap_url)
            entries.append(FeedEntry(identifier=identifier[:200], cap_url=cap_url[:500]))
    return entries


def poll_feed(url: str, *, now: dt.datetime) -> PollOutcome:
    """Poll one feed and import its new alerts; never raises for bad input."""
    outcome = PollOutcome(url=url)
    state = VigilanceFeedState.objects.filter(url=url).first()
    headers: dict[str, str] = {}
    if state is not None and state.etag:
        headers["If-None-Match"] = state.etag
    if state is not None and state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    response = _fetch(outcome, url, headers, MAX_FEED_BYTES)
    if response is None:
        outcome.status = _("Flux inaccessible")
        return _record(outcome, now)
    if response.status == 304:
        outcome.not_modified = True
        outcome.status = _("Flux inchangé")
        return _record(outcome, now)
    outcome.etag = response.headers.get("etag", "")
    outcome.last_modified = response.headers.get("last-modified", "")
    try:
        entries = parse_feed(response.body)
    except InteropError as error:
        outcome.error(url, error.code, error.message)
        outcome.status = _("Flux illisible")
        return _record(outcome, now)
    outcome.entries = len(entries)
    known = set(
        ImportedCapAlert.objects.filter(
            identifier__in=[entry.identifier for entry in entries if entry.identifier]
        ).values_list("identifier", flat=True)
    )
    fetched = 0
    for entry in entries:
        if entry.identifier and entry.identifier in known:
            outcome.duplicates += 1
            continue
        if fetched >= MAX_ALERTS_PER_POLL:
            break
        fetched += 1
        _import_entry(outcome, entry, now)
    outcome.status = _("%(imported)s alerte(s) importée(s), %(errors)s erreur(s)") % {
        "imported": outcome.imported,
        "errors": len(outcome.errors),
    }
    return _record(outcome, now)


def _import_entry(outcome: PollOutcome, entry: FeedEntry, now: dt.datetime) -> None:
    response = _fetch(outcome, entry.cap_url, {}, MAX_CAP_BYTES)
    if response is None:
        return
    try:
        result = do_import_meteoalarm(response.body, source="meteoalarm", now=now)
    except Exception:  # a bug must not stop the other entries nor the chain of polls
        logger.exception("meteoalarm import failed for %s", entry.cap_url[:200])
        outcome.error(entry.cap_url, "import_failed", _("Erreur interne à l'import de l'alerte."))
        return
    if not result.accepted:
        for error in result.verdict.errors[:3]:
            outcome.error(entry.cap_url, error.code, f"{error.path} : {error.message}")
        return
    if result.duplicate:
        outcome.duplicates += 1
    else:
        outcome.imported += 1


def _record(outcome: PollOutcome, now: dt.datetime) -> PollOutcome:
    do_record_feed_poll(
        outcome.url,
        reached=outcome.reached,
        not_modified=outcome.not_modified,
        etag=outcome.etag,
        last_modified=outcome.last_modified,
        status=outcome.status,
        errors=outcome.errors,
        imported=outcome.imported,
        now=now,
    )
    return outcome


def poll_all_feeds(*, now: dt.datetime) -> list[PollOutcome]:
    return [poll_feed(url, now=now) for url in configured_feeds()]
