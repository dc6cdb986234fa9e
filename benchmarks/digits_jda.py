"""MNIST+USPS digits (JDA release, 16x16 = 256-d), the JDA/MEDA protocol: the classic
feature-level adaptation of ``office_caltech.py`` on M->U and U->M, next to the published numbers
(../shared/data/PUBLISHED_RESULTS.md section 3, MEDA's Table 3).

Data: ``mnist-usps-jda:mnist`` (2000 MNIST digits) and ``mnist-usps-jda:usps`` (1800 USPS
digits), grey levels in [0, 1]. Protocol as for Office-Caltech: every source sample labelled,
every target sample unlabelled and also the test set; deterministic, so one seed (0).

Preprocessing: each sample (row) scaled to unit L2 norm, each domain alone
(``classic_tca.row_normalize``): the JDA code's ``X = X * diag(1 ./ sqrt(sum(X.^2)))`` on its
(features x samples) matrices. With it the source-only 1-NN gives 65.94 (M->U) and 44.70 (U->M),
the published NN column; Office-Caltech's ``office_caltech_preprocess`` (rows / row sum, then
column z-score) gives 51.89 and 33.20, raw pixels 64.44 and 35.85, so the digits were not
z-scored in the published runs.

Row groups, methods, fixed settings, grids and the label-free choices are exactly those of
``office_caltech.py`` (its docstring), reused from there: ``baselines`` (source-only, CORAL, SA,
TCA, JDA, GFK, each with 1-NN / logreg / SVM), ``select`` (grids, logreg, picks by IM / SND and
the target-label ORACLE, ``accuracy_oracle``, an upper bound, not a result), ``meda`` (GFK 20 +
ARTL, the paper's defaults, mu 0.5) and ``ensemble`` (the label-free 48-member ARTL ensemble).

Run:   .venv/bin/python benchmarks/digits_jda.py [--tasks M->U] [--groups baselines,meda]
       [--threads 1]
Writes benchmarks/results/digits_jda.json (format: ../shared/docs/BENCHMARKS.md) after every
finished task and group; finished (task, group) pairs are kept and skipped, so an interrupted run
resumes. Prints Markdown tables at the end.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import office_caltech as oc  # the Office-Caltech runners, reused on the digits

from domainfit.adapt.classic_tca import row_normalize

DATASET = "mnist-usps-jda"
DOMAINS = {"M": "mnist", "U": "usps"}
TASKS = ("M->U", "U->M")
PREPROCESS = "rows scaled to unit L2 norm, each domain alone"
# PUBLISHED_RESULTS.md section 3 (MEDA, Table 3), in the order of TASKS.
PUBLISHED = {
    "1NN": (65.9, 44.7),
    "SVM": (68.2, 62.2),
    "PCA": (66.2, 45.0),
    "TCA": (56.3, 51.2),
    "GFK": (61.2, 46.5),
    "JDA": (67.3, 59.7),
    "CORAL": (49.2, 30.5),
    "ARTL": (88.8, 67.7),
    "JGSA": (80.4, 68.2),
    "MEDA": (89.5, 72.1),
}
# Table columns: (header, published key or None, our (method, metric) or None).
COLUMNS = (
    ("1NN (pub.)", "1NN", None),
    ("1NN (ours)", None, ("source_only_1nn", "accuracy")),
    ("SVM (pub.)", "SVM", None),
    ("SVM (ours)", None, ("source_only_svm", "accuracy")),
    ("PCA (pub.)", "PCA", None),
    ("SA 1NN (ours)", None, ("sa_1nn", "accuracy")),
    ("TCA (pub.)", "TCA", None),
    ("TCA 1NN (ours)", None, ("tca_1nn", "accuracy")),
    ("GFK (pub.)", "GFK", None),
    ("GFK 1NN (ours)", None, ("gfk_1nn", "accuracy")),
    ("JDA (pub.)", "JDA", None),
    ("JDA 1NN (ours)", None, ("jda_1nn", "accuracy")),
    ("CORAL (pub.)", "CORAL", None),
    ("CORAL 1NN (ours)", None, ("coral_1nn", "accuracy")),
    ("CORAL SVM (ours)", None, ("coral_svm", "accuracy")),
    ("ARTL (pub.)", "ARTL", None),
    ("JGSA (pub.)", "JGSA", None),
    ("MEDA (pub.)", "MEDA", None),
    ("MEDA (ours)", None, ("meda", "accuracy")),
    ("**ARTL ensemble (ours, label-free)**", None, ("artl_ensemble", "accuracy")),
    ("ensemble's best member (oracle)", None, ("artl_ensemble", "accuracy_oracle")),
)


def load_task(task: str) -> tuple[np.ndarray, ...]:
    return oc.load_task(task, DATASET, DOMAINS, row_normalize)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--groups", default=",".join(oc.GROUPS))
    parser.add_argument(
        "--threads", type=int, default=1, help="BLAS threads (1: steady beside other work)"
    )
    args = parser.parse_args()
    tasks, groups = args.tasks.split(","), args.groups.split(",")
    bad = sorted(set(tasks) - set(TASKS)) + sorted(set(groups) - set(oc.GROUPS))
    if bad:
        known = f"tasks: {', '.join(TASKS)}; groups: {', '.join(oc.GROUPS)}"
        print(f"unknown tasks/groups {bad}; {known}")
        return 2
    out = oc.RESULTS / "digits_jda.json"
    doc = oc._load(out, "mnist-usps-jda", "digits_jda.py", preprocess=PREPROCESS)
    oc.run(out, doc, tasks, groups, args.threads, load_task)
    print(report(doc["rows"]))
    return 0


def report(rows: list[oc.Row]) -> str:
    t = oc._table(rows)
    tasks = [k for k in TASKS if any(k in v for v in t.values())]
    idx = [TASKS.index(k) for k in tasks]
    nn = t.get(("source_only_1nn", "accuracy"), {})
    pub = [(k, nn.get(k), PUBLISHED["1NN"][TASKS.index(k)]) for k in tasks]
    same = all(v is not None and round(v, 1) == p for _, v, p in pub)
    lines = [f"Source-only 1-NN equals the published 1NN column: {'YES' if same else 'NO'}"]
    lines += [f"  {k}: ours {v}, published {p}" for k, v, p in pub]
    head = [name for name, *_ in COLUMNS]
    lines += ["", "| task | " + " | ".join(head) + " |", "|---" + "|---:" * len(head) + "|"]
    cols = [
        [PUBLISHED[p][i] for i in idx] if p else [t.get(ours, {}).get(k, np.nan) for k in tasks]
        for _, p, ours in COLUMNS
    ]
    for j, k in enumerate(tasks):
        lines.append(f"| {k.replace('->', '→')} | " + " | ".join(oc._f(c[j]) for c in cols) + " |")
    lines.append("| **avg** | " + " | ".join(oc._f(float(np.mean(c))) for c in cols) + " |")
    lines += ["", oc._averages(t, tasks)]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
