"""Findings that are symptoms of other findings: said so in their evidence, the cause first.

A user fixes the first line they read. When that line is a symptom, fixing it leaves the cause
in place (dropping the leaked rows by hand while the file still repeats samples) or sends them
after a problem that is not there (relabelling samples whose only fault is being cut short).
Three relations are known:

- ``split_leakage`` inside a domain, while ``duplicates`` reports repeats in that domain: the
  repeats are what straddles the split (a random split of a file with no repeats leaks none).
- ``label_noise`` next to truncating ``input_mismatch`` in the same domain: a text whose
  label-bearing end was cut reads like another class. The suspects' cut share is compared
  with all texts' (a one-sided binomial test at 1%): enriched, the noise is called a likely
  symptom of the truncation; not enriched, the evidence says the truncation does not explain it.
- ``label_shift`` estimated without target labels, next to a ``domain_gap`` of proxy-A-distance
  size: black box shift estimation assumes p(x | y) is the same in both domains, which a gap
  contradicts, so the estimate drops a level and says why. Next to the *small* shift only the
  two-sample test finds, the order turns: moved class priors alone make the target look
  different, so that shift is the label shift's symptom.

A cause ranks above its symptoms: its severity becomes at least theirs (the original is kept in
``evidence["severity_before"]``), as the root of a high-severity problem is one.
"""

from __future__ import annotations

from domainfit.diagnose.findings import SEVERITY_ORDER, Finding, Severity

ENRICHED_P = 0.01
PARTLY = 0.15  # a drop of the noise count, read longer, worth naming (a third makes a symptom)
LOWER: dict[str, Severity] = {"high": "medium", "medium": "low", "low": "low"}


def link_causes(findings: list[Finding]) -> list[Finding]:
    """``findings`` with symptom evidence added and causes raised to their symptoms' level."""
    for f in findings:
        if f.code == "split_leakage" and not str(f.evidence.get("pair", "")).startswith("source"):
            cause = _first(findings, "duplicates", f.domain)
            if cause is not None:
                _mark(
                    f,
                    cause,
                    f"the {cause.evidence.get('count')} repeated samples in {f.domain} are what "
                    "straddles the split: clean.drop_duplicates: true removes both",
                    fix_first=False,  # the leakage fix names drop_duplicates already
                )
        elif f.code == "label_noise":
            cause = _truncation(findings, f.domain)
            if cause is not None:
                _noise_vs_truncation(f, cause)
        elif f.code == "label_shift":
            gap = _first(findings, "domain_gap", f.domain)
            if gap is not None and "test_pvalue" in gap.evidence:
                # a small shift found only by the two-sample test: moved priors move p(x) too
                _mark(
                    gap,
                    f,
                    "the class priors moved (label_shift): a target with other class "
                    "proportions is told from the source by that alone",
                )
            elif gap is not None and "target_priors_observed" not in f.evidence:
                cause = gap
                f.severity = LOWER[f.severity]
                _mark(
                    f,
                    cause,
                    "estimated without target labels under a domain gap: the estimate assumes "
                    "p(x | y) is the same in both domains, which the gap contradicts; label a "
                    "few hundred target samples to measure the priors instead",
                )
    for f in findings:  # working lists, not evidence a reader needs
        f.evidence.pop("_truncated_ids", None)
        f.evidence.pop("_checked_ids", None)
        f.evidence.pop("_noise_longer", None)
    return findings


def _first(findings: list[Finding], code: str, domain: str | None) -> Finding | None:
    return next((f for f in findings if f.code == code and f.domain == domain), None)


def _truncation(findings: list[Finding], domain: str | None) -> Finding | None:
    return next(
        (
            f
            for f in findings
            if f.code == "input_mismatch" and f.domain == domain and "_truncated_ids" in f.evidence
        ),
        None,
    )


def _mark(symptom: Finding, cause: Finding, why: str, fix_first: bool = True) -> None:
    """What the console shows says it too: the title names the cause, the fix starts there
    (``fix_first``; off where the symptom's own fix already removes the cause)."""
    symptom.evidence["symptom_of"] = cause.code
    symptom.evidence["why"] = why
    symptom.title += f" (likely a symptom of {cause.code}, listed above)"
    if fix_first:
        symptom.fix = f"{why}; then: {symptom.fix}" if symptom.fix else why
    if SEVERITY_ORDER[cause.severity] > SEVERITY_ORDER[symptom.severity]:
        cause.evidence.setdefault("severity_before", cause.severity)
        cause.severity = symptom.severity
    cause.score = max(cause.score, symptom.score + 1e-6)  # ahead of it within the severity
    cause.evidence.setdefault("causes", [])
    if symptom.code not in cause.evidence["causes"]:
        cause.evidence["causes"].append(symptom.code)


def _noise_vs_truncation(noise: Finding, truncation: Finding) -> None:
    """Does the noise fall when the texts are read longer (:mod:`truncation_noise`, when it
    ran)? Else: are the label-noise suspects cut more often than texts in general?"""
    from scipy.stats import binomtest

    from domainfit.diagnose.truncation_noise import describe

    if "estimated_noise_rate" in noise.evidence and noise.evidence["estimated_noise_rate"] is None:
        if truncation.severity in ("high", "medium"):  # labels unpredictable from cut texts
            share = truncation.evidence.get("truncated_share", 0.0)
            _mark(
                noise,
                truncation,
                f"{share:.0%} of the texts are cut at model.max_length: the features may never "
                "see the part that carries the label",
            )
        return
    longer = noise.evidence.pop("_noise_longer", None)
    if longer is not None:
        noise.evidence["noise_at_longer_inputs"] = longer
        if longer["falls"]:
            _mark(
                noise,
                truncation,
                f"{describe(longer)}: much of the contradiction is the truncation's (the "
                "label-bearing part was never read); fix the input first, then look at the "
                "labels again",
            )
        elif longer["before"] - longer["estimated_noise_rate"] >= PARTLY * longer["before"]:
            drop = 1 - longer["estimated_noise_rate"] / max(longer["before"], 1e-9)
            noise.title += f" ({drop:.0%} of it the truncation's)"
            noise.evidence["why"] = f"partly the truncation's: {describe(longer)}"
        else:
            noise.title += " (not explained by the truncation)"
            noise.evidence["why"] = f"not explained by the truncation: {describe(longer)}"
        return

    cut = set(truncation.evidence["_truncated_ids"])
    checked = set(truncation.evidence.get("_checked_ids", []))
    suspects = [i for i in noise.examples if i in checked]
    if not suspects or not checked:
        return
    base = len(cut) / len(checked)
    hits = sum(i in cut for i in suspects)
    p = binomtest(hits, len(suspects), base, alternative="greater").pvalue if base < 1 else 1.0
    noise.evidence["suspects_cut_share"] = round(hits / len(suspects), 4)
    noise.evidence["texts_cut_share"] = round(base, 4)
    if p < ENRICHED_P:
        _mark(
            noise,
            truncation,
            f"{hits / len(suspects):.0%} of the suspects are texts cut at model.max_length "
            f"against {base:.0%} of all texts: much of the contradiction is likely the "
            "truncation's (their label-bearing part was never read); fix the input first, "
            "then look at the labels again",
        )
    else:
        noise.title += " (not explained by the truncation)"
        noise.evidence["why"] = (
            f"not explained by the truncation: {hits / len(suspects):.0%} of the suspects are "
            f"cut texts, as are {base:.0%} of all texts"
        )
