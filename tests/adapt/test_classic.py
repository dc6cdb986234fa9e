"""Classic feature-level adaptation: CORAL, SA, TCA, JDA, GFK, ARTL/MEDA and their ensemble on
synthetic shifted domains, the common classifier interface, clear errors, and the published
Office-Caltech numbers on the real shared data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from domainfit.adapt.classic import (
    CLASSIC_METHODS,
    adapt,
    adapt_and_classify,
    artl_ensemble,
    coral_recolor,
    jda,
    make_classifier,
    meda,
    office_caltech_preprocess,
    subspace_alignment,
    tca,
)
from domainfit.adapt.classic_align import sym_power
from domainfit.adapt.classic_ensemble import scores_to_probabilities
from domainfit.adapt.classic_gfk import gfk_matrix
from domainfit.adapt.validators import information_maximization, snd


@pytest.fixture(autouse=True)
def _one_blas_thread() -> Iterator[None]:
    """Many small eigenproblems: one BLAS thread is as fast alone and far faster on a shared
    machine, where extra threads contend with other work."""
    with threadpool_limits(1):
        yield


def rotated_domains(seed: int = 0, angle: float = 1.1) -> tuple[np.ndarray, ...]:
    """Three Gaussian classes strung along the first axis (5-d, noise 0.7); the target is the
    same distribution rotated by ``angle`` in the first plane and shifted by 4 in every
    feature. Both domains are then centred on their own means (as a per-domain z-score does),
    which removes the shift but not the rotation: source-only 1-NN mislabels about a third."""
    rng = np.random.default_rng(seed)
    means = np.zeros((3, 5))
    means[:, 0] = [-3.0, 0.0, 3.0]

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = np.repeat(np.arange(3), n // 3)
        return means[y] + 0.7 * rng.normal(size=(n, 5)), y

    (xs, ys), (xt, yt) = draw(150), draw(150)
    rot = np.eye(5)
    rot[:2, :2] = [[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]
    xt = xt @ rot.T + 4.0
    return xs - xs.mean(axis=0), ys, xt - xt.mean(axis=0), yt


def rescaled_domains(seed: int = 0) -> tuple[np.ndarray, ...]:
    """The same classes; the target's features have other gains (x0.4 on the class axis, x3 on
    two noise features), as from another sensor: a covariance shift CORAL can undo."""
    xs, ys, xt, yt = rotated_domains(seed, angle=0.0)
    return xs, ys, xt * np.array([0.4, 3.0, 3.0, 1.0, 1.0]), yt


def accuracy(pred: np.ndarray, y: np.ndarray) -> float:
    return float((np.asarray(pred) == y).mean())


def source_only(xs: np.ndarray, ys: np.ndarray, xt: np.ndarray, yt: np.ndarray) -> float:
    return accuracy(make_classifier("1nn").fit(xs, ys).predict(xt), yt)


# ---------------------------------------------------------------- CORAL


def test_coral_matches_target_covariance() -> None:
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(400, 4)) @ rng.normal(size=(4, 4))
    xt = rng.normal(size=(300, 4)) @ rng.normal(size=(4, 4)) + 2.0
    cs, ct = np.cov(xs, rowvar=False), np.cov(xt, rowvar=False)
    # eps -> 0: the re-coloured source has the target's covariance.
    tiny = coral_recolor(xs, xt, eps=1e-9)
    np.testing.assert_allclose(np.cov(tiny, rowvar=False), ct, atol=1e-6)
    # eps = 1 (the paper's): cov(X_s') + eps C_t^{1/2} C_s^{-1} C_t^{1/2} = C_t exactly, with
    # C_s = cov(X_s) + eps I, C_t = cov(X_t) + eps I.
    eye = np.eye(4)
    out = coral_recolor(xs, xt, eps=1.0)
    root = sym_power(ct + eye, 0.5)
    lhs = np.cov(out, rowvar=False) + root @ np.linalg.inv(cs + eye) @ root
    np.testing.assert_allclose(lhs, ct + eye, atol=1e-8)


def test_coral_undoes_a_rescaled_target() -> None:
    xs, ys, xt, yt = rescaled_domains()
    before = source_only(xs, ys, xt, yt)
    after = accuracy(adapt_and_classify("coral", xs, ys, xt, "1nn", eps=0.01).predictions, yt)
    assert before < 0.8 and after > before + 0.1


# ---------------------------------------------------------------- shapes and the shift


def test_output_shapes() -> None:
    xs, ys, xt, _ = rotated_domains()
    zs, zt = subspace_alignment(xs, xt, 2)
    assert zs.shape == (150, 2) and zt.shape == (150, 2)
    for kernel in ("linear", "rbf", "primal"):
        zs, zt = tca(xs, xt, 3, kernel=kernel)
        assert zs.shape == (150, 3) and zt.shape == (150, 3)
    r = jda(xs, ys, xt, 2, iterations=3)
    assert r.zs.shape == (150, 2) and r.zt.shape == (150, 2) and r.predictions.shape == (150,)
    assert len(r.history) == 3 and r.probabilities is None
    g = gfk_matrix(xs, xt, 2)
    assert g.shape == (5, 5) and np.allclose(g, g.T) and np.linalg.eigvalsh(g).min() > -1e-10


def test_gfk_of_one_subspace_is_twice_its_projector() -> None:
    # theta = 0 everywhere: L1 = 2, L2 = L3 = 0, so G = 2 P P^T.
    x = np.random.default_rng(1).normal(size=(100, 6)) * np.arange(1, 7)
    g = gfk_matrix(x, x, 2)
    p = np.linalg.svd(x - x.mean(axis=0), full_matrices=False)[2][:2].T
    np.testing.assert_allclose(g, 2 * p @ p.T, atol=1e-10)


@pytest.mark.parametrize(
    ("method", "params"),
    [("sa", {"dim": 1}), ("tca", {"dim": 2}), ("jda", {"dim": 2}), ("gfk", {"dim": 1})],
)
def test_adapted_pipeline_beats_source_only(method: str, params: dict[str, int]) -> None:
    xs, ys, xt, yt = rotated_domains()
    before = source_only(xs, ys, xt, yt)
    after = accuracy(adapt_and_classify(method, xs, ys, xt, "1nn", **params).predictions, yt)
    assert before < 0.7
    assert after > before + 0.1, (method, before, after)


def test_meda_and_ensemble_beat_source_only() -> None:
    xs, ys, xt, yt = rotated_domains()
    before = source_only(xs, ys, xt, yt)
    assert accuracy(meda(xs, ys, xt, dim=1).predictions, yt) > before + 0.05
    ens = artl_ensemble(xs, ys, xt, gfk_dims=(1, 2), jda_dims=(2,), lams=(10.0,), rhos=(1.0,))
    assert len(ens.members) == 3 * 2  # 3 views x 1 lam x 1 rho x 2 neighbour counts
    assert accuracy(ens.predictions, yt) > before + 0.05
    mean = np.mean([m.result.scores for m in ens.members], axis=0)
    np.testing.assert_allclose(ens.scores, mean)
    probs = scores_to_probabilities(ens.scores)
    assert np.allclose(probs.sum(axis=1), 1) and information_maximization(probs) > 0


def test_jda_is_deterministic_and_takes_any_classifier() -> None:
    xs, ys, xt, _ = rotated_domains()
    a = jda(xs, ys, xt, 2, classifier="logreg", iterations=4)
    b = jda(xs, ys, xt, 2, classifier="logreg", iterations=4)
    np.testing.assert_array_equal(a.zt, b.zt)
    assert all(np.array_equal(x, y) for x, y in zip(a.history, b.history, strict=True))
    assert a.probabilities is not None and a.probabilities.shape == (150, 3)
    for kernel in ("linear", "rbf"):
        r = jda(xs, ys, xt, 3, kernel=kernel, classifier="svm", iterations=2)
        assert r.zt.shape == (150, 3) and set(r.predictions) <= {0, 1, 2}


def test_classifiers_share_one_interface() -> None:
    xs, ys, xt, _ = rotated_domains()
    for name in ("1nn", "logreg", "svm"):
        clf = make_classifier(name, c=0.5).fit(xs, ys)
        assert clf.predict(xt).shape == (150,) and list(clf.classes) == [0, 1, 2]
        probs = clf.predict_proba(xt)
        assert (probs is not None) == clf.has_proba == (name == "logreg")
    probs = make_classifier("logreg").fit(xs, ys).predict_proba(xt)
    assert probs is not None and np.allclose(probs.sum(axis=1), 1)
    assert np.isfinite(snd(probs)) and information_maximization(probs) > 0


def test_registry_runs_every_method() -> None:
    xs, ys, xt, _ = rotated_domains()
    assert set(CLASSIC_METHODS) >= {"none", "coral", "sa", "tca", "jda"}
    for name in CLASSIC_METHODS:
        params = {} if name in ("none", "coral") else {"dim": 2}
        out = adapt(name, xs, ys, xt, **params)
        assert len(out.zs) == 150 and len(out.zt) == 150


# ---------------------------------------------------------------- clear errors


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda xs, ys, xt: subspace_alignment(xs, xt, 0), "dim must be between 1 and 5"),
        (lambda xs, ys, xt: subspace_alignment(xs, xt, 6), "dim must be between 1 and 5"),
        (lambda xs, ys, xt: tca(xs, xt, 301, kernel="rbf"), "between 1 and 300"),
        (lambda xs, ys, xt: tca(xs, xt, 2.5), "dim must be an integer"),
        (lambda xs, ys, xt: jda(xs, ys, xt, 6), "between 1 and 5"),
        (lambda xs, ys, xt: jda(xs, ys, xt, 2, kernel="poly"), "unknown kernel 'poly'"),
        (lambda xs, ys, xt: jda(xs, ys[:-1], xt, 2), "one label per source row"),
        (lambda xs, ys, xt: jda(xs, ys, xt, 2, iterations=0), "iterations must be"),
        (lambda xs, ys, xt: coral_recolor(xs, xt[:, :3]), "xs has 5 features but xt has 3"),
        (lambda xs, ys, xt: coral_recolor(xs, xt, eps=0), "eps must be > 0"),
        (lambda xs, ys, xt: adapt("gfc", xs, ys, xt), "unknown adaptation method 'gfc'"),
        (lambda xs, ys, xt: adapt("coral", xs, ys, xt, dim=2), "takes eps; got unknown dim"),
        (lambda xs, ys, xt: make_classifier("knn"), "unknown classifier 'knn'"),
        (lambda xs, ys, xt: gfk_matrix(xs, xt, 5), "dim must be between 1 and 4"),
    ],
)
def test_bad_input_is_a_clear_error(call, message: str) -> None:  # type: ignore[no-untyped-def]
    xs, ys, xt, _ = rotated_domains()
    with pytest.raises(ValueError, match=message):
        call(xs, ys, xt)


def test_office_preprocess() -> None:
    x = np.random.default_rng(0).integers(0, 5, size=(30, 6)).astype(float) + 1
    x[:, 2] = 0.0
    x[:, 2] = x.sum(axis=1)  # half of every row's new sum: a constant column after step one
    out = office_caltech_preprocess(x)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out[:, [0, 1, 3, 4, 5]].std(axis=0), 1)
    assert np.all(out[:, 2] == 0)
    with pytest.raises(ValueError, match="sums to zero"):
        office_caltech_preprocess(np.zeros((3, 4)))


# ---------------------------------------------------------------- the real data


@pytest.fixture
def office(shared_data: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DOMAINFIT_DATA", str(shared_data))
    from domainfit import load_data

    def domain(name: str) -> tuple[np.ndarray, np.ndarray]:
        ds = load_data(f"office-caltech-surf:{name}")
        return office_caltech_preprocess(ds.inputs), np.asarray(ds.labels)

    return domain


def test_published_office_caltech_numbers(office) -> None:  # type: ignore[no-untyped-def]
    """C→A: source-only 1-NN 23.70 (JDA paper NN column, exact) and JDA (k 100, lam 1,
    10 iterations, 1-NN) 44.78 (JDA paper)."""
    (xs, ys), (xt, yt) = office("caltech"), office("amazon")
    assert round(100 * source_only(xs, ys, xt, yt), 2) == 23.70
    assert 100 * accuracy(jda(xs, ys, xt, 100).predictions, yt) == pytest.approx(44.78, abs=0.3)
    # W→D, the smallest task: the NN column's 59.24.
    (xs, ys), (xt, yt) = office("webcam"), office("dslr")
    assert round(100 * source_only(xs, ys, xt, yt), 2) == 59.24


def test_meda_reproduces_published_c_to_a(office) -> None:  # type: ignore[no-untyped-def]
    """MEDA (GFK 20, our fixed mu 0.5) on C→A: 56.5 in the MEDA paper's Table 2."""
    (xs, ys), (xt, yt) = office("caltech"), office("amazon")
    assert 100 * accuracy(meda(xs, ys, xt).predictions, yt) == pytest.approx(56.5, abs=0.5)
