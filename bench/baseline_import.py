"""The import benchmark's baseline: the same CSV rows inserted as leads with the raw database driver's
executemany, with no validation, normalisation or deduplication.

    python bench/baseline_import.py FILE.csv DATABASE_URL USERNAME
"""

from __future__ import annotations

import csv
import sqlite3
import sys
from datetime import UTC, datetime

BATCH = 2_000
# Every column without a default in the database: the values Django writes for a new lead.
COLUMNS = ("seller_id", "name", "company", "email", "phone", "source", "timezone", "notes", "qualifying_notes",
           "status", "strikes", "nurture_reason", "email_bounce_reason", "history_key", "attributes", "created_at",
           "updated_at")


def rows(path: str, seller_id: int, stamp):
    with open(path, newline="", encoding="utf-8-sig") as f:
        for r in csv.DictReader(f):
            name = f"{r['First Name']} {r['Last Name']}".strip()
            yield (seller_id, name, r["Company"], r["E-mail Address"], r["Mobile Phone"], "import", "", "", "",
                   "new", 0, "", "", "", "{}", stamp, stamp)


def main() -> None:
    path, url, username = sys.argv[1], sys.argv[2], sys.argv[3]
    now = datetime.now(UTC)
    columns = ", ".join(f'"{c}"' for c in COLUMNS)
    if url.startswith("sqlite:"):
        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        sql = f"INSERT INTO leads_lead ({columns}) VALUES ({', '.join('?' * len(COLUMNS))})"
        stamp = now.replace(tzinfo=None).isoformat(" ")
    else:
        import psycopg

        db = psycopg.connect(url)
        sql = f"INSERT INTO leads_lead ({columns}) VALUES ({', '.join(['%s'] * len(COLUMNS))})"
        stamp = now
    cursor = db.cursor()
    mark = "?" if url.startswith("sqlite:") else "%s"
    cursor.execute("SELECT s.id FROM sellers_seller s JOIN auth_user u ON u.id = s.user_id "
                   f"WHERE u.username = {mark}", (username,))
    seller_id = cursor.fetchone()[0]
    batch = []
    for row in rows(path, seller_id, stamp):
        batch.append(row)
        if len(batch) == BATCH:
            cursor.executemany(sql, batch)
            batch = []
    if batch:
        cursor.executemany(sql, batch)
    db.commit()
    db.close()


if __name__ == "__main__":
    main()
