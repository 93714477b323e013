"""The forecast on a real public appointment history: Kaggle's "Medical Appointment No Shows" (110,527
appointments in Vitória, Brazil, 2016; CC BY-NC-SA 4.0, so it is not in this repository: pass your copy).

    .venv/bin/python bench/forecast.py --csv KaggleV2-May-2016.csv [--out bench/results/forecast]

It imports the file as a user would (``rebook init --timezone UTC``, then ``rebook import history``: the
patient is the lead, ``ScheduledDay`` the booking, ``AppointmentDay`` the start, ``No-show`` the outcome,
the other columns lead attributes) into a throwaway REBOOK_HOME, then runs ``rebook risk evaluate``'s own
code (``forecast.services.report``) three times on the same meetings, split in time (the latest 20% by
start are the test set, never seen while choosing or fitting):

- the real outcomes;
- coin flips at the same base rate, which nothing can predict (an honest forecast scores an AUC near 0.5);
- outcomes drawn from a known rule of the features (with a bend no weighted sum has), whose own AUC on
  the test meetings is the ceiling.

It also times ``rebook risk train --team`` on the whole history and scoring one meeting in pure Python,
for each kind. Results go to OUT.md and OUT.json, with the machine named.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REBOOK = [str(Path(sys.executable).with_name("rebook"))]  # the installed command, as a user runs it


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")), platform.machine()) if cpuinfo.exists() else platform.machine()
    return f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def rule_probability(xs, names):
    """The known rule: more likely the further ahead it was booked, much more after an earlier no-show,
    and for the young only when booked more than a week ahead (the bend)."""
    import numpy as np

    col = {n: xs[:, i] for i, n in enumerate(names)}
    age = col.get("attr:Age", np.zeros(len(xs)))
    ahead = col["lead_days"]
    z = -2.4 + 0.35 * ahead + 1.1 * (col["prior_no_shows"] > 0) + 1.0 * ((age < 30) & (col["far_ahead"] + (ahead > 2.1) > 0))
    return 1 / (1 + np.exp(-z))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--csv", required=True, type=Path, help="KaggleV2-May-2016.csv (the 110,527-row file)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "forecast"), help="OUT.md and OUT.json")
    args = parser.parse_args()

    home = tempfile.mkdtemp(prefix="rebook-forecast-")
    env = {**os.environ, "REBOOK_HOME": home}
    env.pop("DATABASE_URL", None)
    subprocess.run([*REBOOK, "init", "--name", "Clinic", "--email", "clinic@example.com", "--timezone", "UTC"],
                   env=env, check=True, capture_output=True)
    started = time.perf_counter()
    imported = json.loads(subprocess.run([*REBOOK, "import", "history", str(args.csv), "--json"], env=env,
                                         check=True, capture_output=True, text=True).stdout)
    import_s = time.perf_counter() - started

    os.environ.update(REBOOK_HOME=home, DJANGO_SETTINGS_MODULE="rebook.settings")
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    import numpy as np
    from django.db.models import Q
    from sklearn.metrics import roc_auc_score

    from rebook.forecast import services

    vocab = services.lead_vocabulary(Q())
    names = services._names(vocab)
    xs, ys, starts = services._dataset(Q(), vocab)
    split = float(np.sort(starts)[int(len(starts) * 0.8)])
    test = starts >= split

    started = time.perf_counter()
    real = services.report(xs, ys, starts, names)
    real["seconds"] = round(time.perf_counter() - started, 1)
    rng = np.random.default_rng(2016)
    coin = services.report(xs, (rng.random(len(ys)) < ys.mean()).astype(int), starts, names)
    truth = rule_probability(xs, names)
    ruled = (rng.random(len(ys)) < truth).astype(int)
    rule = services.report(xs, ruled, starts, names)
    rule["rule_own_auc"] = round(float(roc_auc_score(ruled[test], truth[test])), 4)

    started = time.perf_counter()
    row = services.train(seller=None)
    train_s = time.perf_counter() - started
    probe = [dict(zip(names, r, strict=True)) for r in xs[test][:2000].tolist()]
    scoring = {}
    for kind in services.KINDS:
        fitted = services._fit(xs[~test], ys[~test], names=names, kind=kind)
        began = time.perf_counter()
        for x in probe:
            fitted.model.probability(x)
        scoring[kind] = round((time.perf_counter() - began) * 1e6 / len(probe), 1)

    results = {
        "machine": machine(),
        "data": {"file": args.csv.name, "sha256": hashlib.sha256(args.csv.read_bytes()).hexdigest(),
                 "rows": imported["rows"], "meetings": imported["meetings"], "same_lead_and_start": imported["unchanged"],
                 "leads": imported["leads_created"], "finished": int(len(ys)), "no_show_rate": round(float(ys.mean()), 4),
                 "import_seconds": round(import_s, 1)},
        "real": real, "coin_flips": coin, "known_rule": rule,
        "train_team": {"seconds": round(train_s, 1), "kind": row.parameters["kind"], "why": row.parameters["choice"]["why"],
                       "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)},
        "score_microseconds_per_meeting": scoring,
    }
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(results))
    print(markdown(results))
    return 0


def markdown(r: dict) -> str:
    d = r["data"]

    def line(name, res, extra=""):
        k = res["kinds"]
        return (f"| {name} | {res['model']} | {res['auc']:.3f} | {res['brier']:.4f} | {res['base_brier']:.4f} | "
                f"{(1 - res['brier'] / res['base_brier']) * 100:+.1f}% | {k['logistic']['auc']:.3f} | "
                f"{k['trees']['auc']:.3f} | {extra} |")

    return "\n".join([
        "# The forecast on a real appointment history",
        "",
        f"Machine: {r['machine']}. Data: {d['file']} (sha256 {d['sha256'][:16]}…), {d['rows']:,} rows; "
        f"{d['meetings']:,} meetings for {d['leads']:,} leads ({d['same_lead_and_start']:,} rows repeat a lead and "
        f"start and count once), {d['finished']:,} finished, {d['no_show_rate']:.1%} missed; imported in "
        f"{d['import_seconds']:.0f} s with `rebook import history`.",
        "",
        f"Split in time: trained on {r['real']['n_train']:,} meetings before {r['real']['split'][:10]}, tested on "
        f"{r['real']['n_test']:,} from then on. The kind is chosen on the latest 20% of the training meetings.",
        "",
        "| outcomes | chosen | AUC | Brier | base rate's Brier | Brier vs base | logistic AUC | trees AUC | |",
        "|---|---|---|---|---|---|---|---|---|",
        line("real", r["real"], f"evaluated in {r['real']['seconds']} s"),
        line("coin flips", r["coin_flips"], "nothing to learn"),
        line("known rule", r["known_rule"], f"the rule's own AUC {r['known_rule']['rule_own_auc']:.3f}"),
        "",
        f"Choice on the real outcomes: {r['real']['choice']['why']}.",
        "",
        f"`rebook risk train --team` on the whole history: {r['train_team']['seconds']} s, peak RSS "
        f"{r['train_team']['peak_rss_mb']} MB (the whole bench process), chose {r['train_team']['kind']}. Scoring one "
        "meeting in pure Python: " + ", ".join(f"{k} {v} µs" for k, v in r["score_microseconds_per_meeting"].items()) + ".",
        "",
    ])


if __name__ == "__main__":
    sys.exit(main())
