"""The REST API, version 1 (django-ninja): the same services as the web app and the CLI, scoped to the
token's seller. Errors are RFC 9457 problem details; another seller's ids answer 404.

The frame (authentication, problems, pagination) is in `rebook.api.base`; each resource is a module of
`rebook.api.routes`."""

from __future__ import annotations

from rebook.api.base import api
from rebook.api.routes import (
    appointments,
    cancellations,
    inbound,
    leads,
    messages,
    overview,
    suggestions,
    uploads,
    webhooks,
)

api.add_router("/leads", leads.router)
api.add_router("/appointments", appointments.router)
api.add_router("/cancellations", cancellations.router)
api.add_router("/messages", messages.router)
api.add_router("/suggestions", suggestions.router)
api.add_router("/", overview.router)
api.add_router("/imports", uploads.router)
api.add_router("/webhooks", webhooks.router)
api.add_router("/inbound", inbound.router)

__all__ = ["api"]
