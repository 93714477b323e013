"""The peer's data at Rebook's seller size: 5,000 leads (crm.Lead) and 20,000 reminders (common.Reminder, four
per lead, the peer's dated item: its reminders list is its daily page), owned by the sales manager `setupdata`
makes (IamSALES), written with bulk_create. Run by bench/peer.py in the peer's environment.

Reminders hang on the leads themselves (generic content type), so the daily list reads each one's lead, as
Rebook's Today reads each meeting's lead. Dates run from a year back to 90 days ahead; future ones are active,
8% of past ones are still active (overdue). Deterministic for a seed, relative to the real "now".
"""

import os
import random
import time
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_settings")
django.setup()

from common.models import Department, Reminder  # noqa: E402
from crm.models import Country, Lead, LeadSource  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

LEADS, PER_LEAD, SEED, OWNER = 5_000, 4, 1, "IamSALES"
FIRST = ["Anna", "Ben", "Carla", "David", "Eva", "Frank", "Greta", "Hugo", "Ines", "Jonas", "Klara", "Leo", "Mia",
         "Noah", "Olga", "Paul", "Quinn", "Rosa", "Sam", "Tina"]
LAST = ["Meyer", "Schmidt", "Novak", "Rossi", "Garcia", "Smith", "Kowalski", "Dubois", "Jensen", "Silva", "Brown",
        "Costa", "Horvat", "Nagy", "Popescu", "Ivanov", "Larsen", "Weber"]
COMPANY = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell", "Soylent"]
CITY = ["Berlin", "Paris", "Madrid", "Rome", "Vienna", "Prague", "Warsaw", "Lisbon", "Oslo"]
KIND = ["Call", "Meeting", "Demo", "Follow-up", "Site visit", "Contract review"]


def main() -> None:
    started = time.perf_counter()
    rnd = random.Random(SEED)
    user = User.objects.get(username=OWNER)
    dept = Department.objects.filter(user=user).first()
    countries = list(Country.objects.values_list("id", flat=True)) or [None]
    sources = list(LeadSource.objects.filter(department=dept).values_list("id", flat=True)) or [None]
    now = timezone.now()
    with transaction.atomic():
        leads = []
        for i in range(LEADS):
            first, last = rnd.choice(FIRST), rnd.choice(LAST)
            created = now - timedelta(days=rnd.uniform(0, 730))
            leads.append(Lead(
                first_name=first, last_name=f"{last}{i}", title=rnd.choice(["CEO", "CTO", "Buyer", "Manager"]),
                email=f"{first}.{last}{i}@example.com".lower(), phone=f"+49 30 {1000000 + i}",
                city_name=rnd.choice(CITY), country_id=rnd.choice(countries),
                company_name=f"{rnd.choice(COMPANY)} {i % 700}", company_email=f"info{i}@example.org",
                description=f"Lead {i} from the bench.", lead_source_id=rnd.choice(sources), owner=user,
                department=dept, creation_date=created, disqualified=rnd.random() < 0.05,
                was_in_touch=(created + timedelta(days=rnd.uniform(0, 30))).date() if rnd.random() < 0.6 else None,
            ))
        Lead.objects.bulk_create(leads, batch_size=1000)
        ids = list(Lead.objects.filter(owner=user).order_by("id").values_list("id", flat=True))
        kind = ContentType.objects.get_for_model(Lead)
        reminders = []
        for lead_id in ids:
            for _ in range(PER_LEAD):
                when = now + timedelta(minutes=rnd.uniform(-365 * 1440, 90 * 1440))
                reminders.append(Reminder(
                    content_type=kind, object_id=lead_id, owner=user, subject=f"{rnd.choice(KIND)} with lead {lead_id}",
                    description="Agenda: pricing, timeline, next steps.", reminder_date=when,
                    active=when > now or rnd.random() < 0.08, send_notification_email=rnd.random() < 0.5,
                    creation_date=min(now, when - timedelta(days=rnd.uniform(1, 30))),
                ))
        Reminder.objects.bulk_create(reminders, batch_size=2000)
    print(f"peer data: {len(ids)} leads, {len(reminders)} reminders in {time.perf_counter() - started:.1f} s")


main()
