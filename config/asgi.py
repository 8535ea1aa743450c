"""ASGI entry point: ``granian --interface asgi config.asgi:application`` (``manage.py serve``).

Pages and API run under Django's WSGI handler in a bounded thread pool, ``/live/`` under native
async handlers: see :mod:`orsec.core.serving` and ``docs/adr/0002-serving-topology.md``.

``ORSEC_WSGI_THREADS`` (set by ``manage.py serve --threads``) sizes the pool;
``ORSEC_MAX_REQUEST_BODY_BYTES`` (setting, optional) caps request bodies. Static files are served
from ``STATIC_ROOT`` with the portal's security headers unless ``ORSEC_SERVE_STATIC=false`` (the
reverse proxy then serves ``/static/``).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.core.wsgi import get_wsgi_application

from config.env import env_bool, env_int
from orsec.core.serving import DEFAULT_MAX_BODY_SIZE, DEFAULT_THREADS, Dispatcher, live_handlers
from orsec.core.static import StaticFiles

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_application = get_wsgi_application()  # django.setup() happens here

application = Dispatcher(
    django_application,
    live=live_handlers,
    static=(settings.STATIC_URL, StaticFiles(Path(settings.STATIC_ROOT), settings.STATIC_URL))
    if env_bool("ORSEC_SERVE_STATIC", True)
    else None,
    threads=env_int("ORSEC_WSGI_THREADS", DEFAULT_THREADS, minimum=1, maximum=256),
    max_body_size=getattr(settings, "ORSEC_MAX_REQUEST_BODY_BYTES", DEFAULT_MAX_BODY_SIZE),
)
