"""The seller's own calendars, connected (CalDAV, or an iCalendar address), and the busy times read from
them: every time Rebook offers or accepts is kept clear of these."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from rebook.sellers.models import Seller


class Connection(models.Model):
    class Kind(models.TextChoices):
        CALDAV = "caldav", "CalDAV"
        ICS = "ics", "iCalendar address"

    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="calendar_connections")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    url = models.URLField(max_length=1000)  # without the password
    name = models.CharField(max_length=100)
    login = models.CharField(max_length=254, blank=True)
    # Encrypted with a key derived from the secret key (Fernet), like the mailbox's; never shown or logged.
    secret = models.BinaryField(blank=True, default=b"")
    busy_only = models.BooleanField(default=True)  # read for busy times only (every connection is, in this version)
    # Rebook writes its meetings into this calendar (a CalDAV collection; one per seller), and reads back what
    # is done to them there.
    writes = models.BooleanField(default=False)
    # Of an account's (a principal's) calendars, the ones read, by name, comma-separated ("" for all); and the
    # calendars found there at the last read (name TAB address, one a line), to choose from.
    only = models.CharField(max_length=1000, blank=True)
    found = models.TextField(blank=True)
    # What the server said last: an iCalendar address's ETag and Last-Modified, for a conditional GET; for
    # CalDAV, a digest of its calendars' ctags and sync-tokens (unchanged: nothing to read).
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)  # the last sync that succeeded
    # The last sync that read every event (not told "nothing changed"): busy times are expanded for the next 90
    # days from then, so a calendar that never changes is still read again daily as the window moves on.
    read_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    problems = models.TextField(blank=True)  # events that could not be read in the last sync, one a line
    events = models.PositiveIntegerField(default=0)  # busy times held from the last sync
    failures = models.PositiveIntegerField(default=0)
    next_sync_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=100, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["seller", "name"], name="calendar_connection_name")]

    def __str__(self) -> str:
        return self.name


class BusyTime(models.Model):
    """One busy stretch from a connected calendar (an occurrence of a series is one row)."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="busy")
    seller = models.ForeignKey(Seller, on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()
    all_day = models.BooleanField(default=False)
    summary = models.CharField(max_length=200, blank=True)
    uid = models.CharField(max_length=500, blank=True)
    # One of the seller's leads is an attendee (or the organiser): a meeting booked outside Rebook, offered to
    # the seller as a booking.
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["seller", "start"], name="busytime_seller_start")]


class CalendarCopy(models.Model):
    """A Rebook meeting (its chain: one UID) as written into the seller's calendar: where, which version
    (the server's ETag, for If-Match), and the times written, to tell a change made there from one made here."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="copies")
    chain = models.UUIDField()
    href = models.URLField(max_length=1000)
    etag = models.CharField(max_length=500, blank=True)
    start = models.DateTimeField()
    end = models.DateTimeField()
    written_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "chain"], name="calendar_copy_chain")]
