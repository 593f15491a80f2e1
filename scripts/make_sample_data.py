"""Generate the sample warehouse shipped with the embedded DuckDB source.

    python scripts/make_sample_data.py

Deterministic (fixed seed): a small SaaS business — customers, plans, subscriptions,
invoices and product events — so the researcher playbook has something real to explore.
The CSVs are committed; rerun this only to change them.
"""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "codifier" / "sources" / "sample"
COUNTRIES = ["US", "GB", "DE", "FR", "NL", "CA", "AU", "BR", "IN", "JP"]
SEGMENTS = ["self-serve", "smb", "mid-market", "enterprise"]
PLANS = [
    ("starter", "monthly", 19),
    ("starter", "annual", 190),
    ("team", "monthly", 49),
    ("team", "annual", 490),
    ("business", "monthly", 199),
    ("business", "annual", 1990),
]
EVENTS = ["login", "invite_sent", "report_created", "export", "api_call", "support_ticket"]


def main() -> None:
    rng = random.Random(20261124)
    OUT.mkdir(parents=True, exist_ok=True)
    start = date(2025, 1, 1)

    with (OUT / "plans.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["plan_id", "name", "billing_period", "price_usd"])
        for i, (name, period, price) in enumerate(PLANS, start=1):
            w.writerow([i, name, period, price])

    customers = []
    with (OUT / "customers.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["customer_id", "company", "country", "segment", "signup_date"])
        for i in range(1, 401):
            signup = start + timedelta(days=rng.randrange(0, 540))
            customers.append((i, signup))
            w.writerow([i, f"Company {i:03d}", rng.choice(COUNTRIES), rng.choice(SEGMENTS), signup])

    subscriptions = []
    with (OUT / "subscriptions.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["subscription_id", "customer_id", "plan_id", "started_on", "cancelled_on"])
        for sid, (cid, signup) in enumerate(customers, start=1):
            plan = rng.randrange(1, len(PLANS) + 1)
            monthly = PLANS[plan - 1][1] == "monthly"
            churn_chance = 0.35 if monthly else 0.12
            cancelled = ""
            if rng.random() < churn_chance:
                cancelled = str(signup + timedelta(days=rng.randrange(30, 400)))
            subscriptions.append((sid, cid, plan, signup, cancelled))
            w.writerow([sid, cid, plan, signup, cancelled])

    with (OUT / "invoices.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["invoice_id", "subscription_id", "issued_on", "amount_usd", "status"])
        invoice_id = 1
        end = date(2026, 10, 31)
        for sid, _cid, plan, started, cancelled in subscriptions:
            period = 30 if PLANS[plan - 1][1] == "monthly" else 365
            stop = date.fromisoformat(cancelled) if cancelled else end
            issued = started
            while issued <= stop and issued <= end:
                status = rng.choices(["paid", "failed", "refunded"], [0.93, 0.05, 0.02])[0]
                w.writerow([invoice_id, sid, issued, PLANS[plan - 1][2], status])
                invoice_id += 1
                issued += timedelta(days=period)

    with (OUT / "events.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["event_id", "customer_id", "event", "occurred_on"])
        for event_id in range(1, 6001):
            cid, signup = rng.choice(customers)
            w.writerow(
                [event_id, cid, rng.choice(EVENTS), signup + timedelta(days=rng.randrange(0, 300))]
            )


if __name__ == "__main__":
    main()
