"""``insert_new``: the rows ``bulk_create`` would write, on both databases, whatever the values and however
many statements they take."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.forms.models import model_to_dict

from rebook.leads.models import Appointment, Lead
from rebook.writes import insert_new, update_rows

# Around the night New York's clocks go forward (2026-03-08, 2:00 local = 7:00 UTC) and back (2026-11-01).
STARTS = [datetime(2026, 3, 8, 6, 30, tzinfo=UTC), datetime(2026, 3, 8, 7, 30, tzinfo=UTC),
          datetime(2026, 11, 1, 5, 30, tzinfo=UTC), datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
          datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)]
ODD = ["", "Café 'Zürich' \"upstairs\"", "back\\slash %s ? $1 :name", "line\nbreak", "日本語の会議室 🗓️"]


def meetings(seller, lead: Lead, count: int) -> list[Appointment]:
    return [Appointment(
        lead=lead, seller_id=seller.pk, start=STARTS[i % 5] + timedelta(days=i // 5),
        end=STARTS[i % 5] + timedelta(days=i // 5, minutes=45), timezone="America/New_York", location=ODD[i % 5],
        booked_by="prospect" if i % 2 else "seller", booked_at=STARTS[0] - timedelta(days=1), title=ODD[(i + 1) % 5],
        ical_uid=f"uid-{i}" if i % 3 else "", recurrence_id=STARTS[i % 5] if i % 4 == 0 else None,
        ical_sequence=2**40 + i if i % 2 else 0, ical_stamp=None if i % 2 else STARTS[1],
        participants=[{"name": ODD[i % 5], "email": f"p{i}@x.example"}] if i % 2 else [],
        risk=None if i % 3 else 0.25 * (i % 4), all_day=bool(i % 2), chain=uuid.uuid4(), created_at=STARTS[2],
    ) for i in range(count)]


def columns(rows: list[Appointment]) -> list[dict]:
    """Each row as the database holds it, without its id (and the moment it was written)."""
    ids = [a.pk for a in rows]
    read = {a.pk: a for a in Appointment.objects.filter(pk__in=ids)}
    return [{k: v for k, v in model_to_dict(read[pk]).items() if k not in ("id", "updated_at")} for pk in ids]


@pytest.mark.parametrize("per_statement", [1, 3, 1000])
def test_the_rows_are_those_bulk_create_writes_with_their_ids(alice, per_statement):
    lead = Lead(seller=alice, name="Dana", email="dana@x.example")  # saved after the meetings name it
    ours, theirs = meetings(alice, lead, 11), meetings(alice, lead, 11)
    for a, b in zip(ours, theirs, strict=True):
        b.chain = a.chain
    lead.save()
    Appointment.objects.bulk_create(theirs)
    insert_new(Appointment, ours, per_statement=per_statement)
    assert [a.lead_id for a in ours] == [lead.pk] * 11
    assert all(not a._state.adding for a in ours)
    assert sorted(a.pk for a in ours) == [a.pk for a in ours], "ids in the rows' order"
    assert columns(ours) == columns(theirs)
    moment = {a.updated_at for a in ours}
    assert len(moment) == 1 and set(Appointment.objects.filter(pk__in=[a.pk for a in ours])
                                    .values_list("updated_at", flat=True)) == moment, "auto_now: one moment, kept"
    first = Appointment.objects.get(pk=ours[0].pk)
    assert first.start == STARTS[0] and first.participants == [] and first.location == ""
    ninth = Appointment.objects.get(pk=ours[9].pk)
    assert (ninth.ical_sequence, ninth.participants[0]["name"], ninth.risk) == (2**40 + 9, ODD[4], 0.25)


def test_any_number_of_rows_takes_a_few_shapes_of_statement(alice, monkeypatch):
    """SQLite's driver keeps the statements it prepared, and a statement lists its rows: however many rows
    come, they go in full statements and the rest in powers of two, so a few shapes serve every count."""
    from django.db import connection

    from rebook import writes

    statements = []
    run = writes._run_returning
    monkeypatch.setattr(writes, "_run_returning", lambda sql, params: statements.append(sql) or run(sql, params))
    lead = Lead.objects.create(seller=alice, name="Ben", email="ben@x.example")
    written = []
    for count in range(1, 41):
        rows = meetings(alice, lead, count)
        insert_new(Appointment, rows, per_statement=16)
        written += rows
    ids = [a.pk for a in written]
    assert ids == sorted(ids) and len(set(ids)) == sum(range(1, 41)) == Appointment.objects.count()
    assert [row["location"] for row in columns(written[-40:])] == [ODD[i % 5] for i in range(40)], "in order"
    assert Appointment.objects.get(pk=written[-1].pk).ical_sequence == 2**40 + 39
    if connection.vendor == "sqlite":  # PostgreSQL's take arrays, whatever their length
        assert len(set(statements)) == 5, statements  # 16, 8, 4, 2 and 1 rows


@pytest.mark.parametrize("count", [1, 7])
def test_update_rows_writes_the_fields_of_each_row_as_it_is(alice, count):
    """One statement a row, or on PostgreSQL one for all (from arrays): the same rows either way, the other
    columns untouched, a row given twice ending as its last copy."""
    lead = Lead.objects.create(seller=alice, name="Ben", email="ben@x.example")
    rows = meetings(alice, lead, count)
    insert_new(Appointment, rows)
    before = columns(rows)
    for i, a in enumerate(rows):
        a.location, a.participants = ODD[(i + 2) % 5], [{"name": ODD[i % 5], "n": i}]
        a.start, a.risk, a.title = a.start - timedelta(hours=25), None if i % 2 else 0.75, "not written"
    again = Appointment.objects.get(pk=rows[0].pk)
    again.location, again.participants, again.start, again.risk = "the last copy", [], STARTS[4] - timedelta(days=400), 0.5
    update_rows(Appointment, [*rows, again] if count > 1 else rows, ["location", "participants", "start", "risk"])
    after = columns(rows)
    for i, (old, new) in enumerate(zip(before, after, strict=True)):
        expected = {"location": ODD[(i + 2) % 5], "participants": [{"name": ODD[i % 5], "n": i}],
                    "start": rows[i].start, "risk": None if i % 2 else 0.75}
        if i == 0 and count > 1:
            expected = {"location": "the last copy", "participants": [], "start": again.start, "risk": 0.5}
        assert new == {**old, **expected}, i


def test_one_row_and_rows_alike_in_every_column(alice):
    lead = Lead.objects.create(seller=alice, name="Ben", email="ben@x.example")
    [one] = meetings(alice, lead, 1)
    insert_new(Appointment, [one])
    alike = meetings(alice, lead, 1) * 1  # the same values in every column but the chain
    alike += [Appointment(**{f.attname: getattr(alike[0], f.attname) for f in Appointment._meta.concrete_fields
                             if not f.primary_key}) for _ in range(3)]
    insert_new(Appointment, alike)
    assert len({a.pk for a in [one, *alike]}) == 5
    assert columns([one])[0] == columns([alike[2]])[0]


def test_a_row_the_database_refuses_fails_the_statement(alice):
    from django.db import IntegrityError, transaction

    lead = Lead.objects.create(seller=alice, name="Ben", email="ben@x.example")
    rows = meetings(alice, lead, 4)
    rows[2].end = rows[2].start  # the meeting must end after it starts
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_new(Appointment, rows)
    assert not Appointment.objects.exists()


def test_a_new_row_like_a_blank_has_its_defaults_and_shares_nothing_mutable(alice):
    from rebook.writes import new_like

    blank = Appointment(seller=alice, timezone="America/New_York", created_at=STARTS[0])
    lead = Lead.objects.create(seller=alice, name="Ben", email="ben@x.example")
    one = new_like(blank, start=STARTS[1], end=STARTS[1] + timedelta(hours=1), chain=uuid.uuid4())
    two = new_like(blank, start=STARTS[2], end=STARTS[2] + timedelta(hours=1), chain=uuid.uuid4())
    one.participants.append({"name": "Dana"})  # a default list: each its own
    assert two.participants == [] and blank.participants == []
    assert one._state.adding and one.pk is None and one._state is not blank._state
    assert (one.status, one.timezone, one.seller) == ("scheduled", "America/New_York", alice)
    for row in (one, two):
        row.lead = lead
    insert_new(Appointment, [one, two])
    assert list(Appointment.objects.order_by("start").values_list("start", "participants", "lead_id")) == [
        (STARTS[1], [{"name": "Dana"}], lead.pk), (STARTS[2], [], lead.pk)]
