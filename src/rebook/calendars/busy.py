"""The busy times of the seller's connected calendars, as last synced (``rebook.calendars.connections``
reads the calendars; nothing here talks to a server): for every time offered or accepted, and the
warning when the seller books over one."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from rebook.calendars.models import BusyTime, Connection
from rebook.sellers.models import Seller

STALE_AFTER = timedelta(hours=2)  # a calendar not read for this long is shown as stale
LONGEST = timedelta(days=15)  # no busy time is longer (an all-day event of two weeks): the index is read from here



def busy_rows(seller_id: int, start: datetime, end: datetime):
    """The connected calendars' busy times that overlap [start, end), from Rebook's own table, as a query
    of (start, end) (to read alone, or with the seller's meetings in one statement)."""
    return BusyTime.objects.filter(seller_id=seller_id, start__lt=end, end__gt=start,
                                   start__gt=start - LONGEST).values_list("start", "end")


def clashes(seller: Seller, start: datetime, end: datetime) -> list[str]:
    """What in the seller's calendars overlaps [start, end), in words ("Team meeting 10:00-11:00")."""
    tz = seller.tz
    out = []
    for summary, s, e, all_day in (BusyTime.objects.filter(seller=seller, start__lt=end, end__gt=start,
                                                           start__gt=start - LONGEST)
                                   .order_by("start").values_list("summary", "start", "end", "all_day")[:5]):
        when = "all day" if all_day else f"{s.astimezone(tz):%H:%M}-{e.astimezone(tz):%H:%M}"
        out.append(f"{summary or 'busy'} {when}")
    return out


def stale(seller: Seller, now: datetime | None = None) -> list[str]:
    """The seller's calendars whose busy times may be out of date, with why."""
    now = now or timezone.now()
    out = []
    for c in Connection.objects.filter(seller=seller).order_by("name"):
        if c.last_error:
            out.append(f"{c.name}: {c.last_error}")
        elif c.last_sync_at is None or now - c.last_sync_at > STALE_AFTER:
            out.append(f"{c.name}: not read since {c.last_sync_at:%Y-%m-%d %H:%M} UTC" if c.last_sync_at
                       else f"{c.name}: never read")
    return out


def to_book(seller: Seller, now: datetime | None = None) -> list[BusyTime]:
    """Meetings ahead in the seller's calendars with one of their leads, that Rebook does not know: booked
    outside Rebook, offered to the seller as bookings (earliest first, at most 20)."""
    from rebook.leads.models import Appointment

    now = now or timezone.now()
    rows = list(BusyTime.objects.filter(seller=seller, lead__isnull=False, start__gt=now).select_related("lead")
                .order_by("start")[:40])
    known = set(Appointment.objects.filter(seller=seller, status=Appointment.Status.SCHEDULED,
                                           lead_id__in={r.lead_id for r in rows}).values_list("lead_id", "start"))
    return [r for r in rows if (r.lead_id, r.start) not in known][:20]
