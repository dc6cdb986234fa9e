"""``domainfit align`` (issue 25): preprocessing protocols of the published baselines, the
config's preprocess:/features: sections, method parameters by their paper names, the PCA
baseline and no third-party warning spam."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from domainfit import api
from domainfit.adapt import classic, classic_protocols
from domainfit.classic_params import canonical, defaults_match, params_help
from domainfit.errors import ConfigError
from tests.test_cli import assert_user_error, run


def _config(tmp_path: Path, source: str, target: str, **sections: object) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"data": {"source": source, "target": target}, **sections}))
    return path


def test_row_and_column_steps_do_what_the_papers_say() -> None:
    xs = np.array([[3.0, 4.0], [1.0, 1.0]])
    xt = np.array([[0.0, 2.0], [2.0, 0.0]])
    s, _ = classic_protocols.apply(classic_protocols.resolve("l2"), xs, xt)
    np.testing.assert_allclose(np.linalg.norm(s, axis=1), 1.0)
    s, _ = classic_protocols.apply(classic_protocols.resolve("sum+none"), xs, xt)
    np.testing.assert_allclose(s.sum(axis=1), 1.0)
    s, t = classic_protocols.apply(classic_protocols.resolve("joint"), xs, xt)
    both = np.vstack([s, t])
    np.testing.assert_allclose(both.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(both.std(axis=0), 1.0)
    s, t = classic_protocols.apply(classic_protocols.resolve("each"), xs, xt)
    np.testing.assert_allclose(t.mean(axis=0), 0.0, atol=1e-12)


@pytest.mark.parametrize(
    ("named", "protocol"),
    [
        ("office-caltech-surf:amazon", "office"),
        ("mnist-usps-jda:usps", "digits"),
        (None, "each"),
    ],
)
def test_auto_picks_the_published_protocol_of_a_named_set(named: str | None, protocol: str) -> None:
    assert classic_protocols.resolve("auto", named).name == protocol


def test_unknown_protocol_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="unknown protocol 'jdaa'.*office"):
        classic_protocols.resolve("jdaa")


@pytest.mark.parametrize(
    ("source", "target", "published"),
    [
        ("office-caltech-surf:caltech", "office-caltech-surf:amazon", 23.70),
        ("office-caltech-surf:dslr", "office-caltech-surf:webcam", 63.39),
        ("mnist-usps-jda:usps", "mnist-usps-jda:mnist", 44.70),
        ("mnist-usps-jda:mnist", "mnist-usps-jda:usps", 65.94),
    ],
)
def test_the_default_protocol_reproduces_the_published_1nn_baseline(
    tmp_path: Path, shared_data: Path, source: str, target: str, published: float
) -> None:
    cfg = {"data": {"source": source, "target": target}}
    result = api.align(cfg, method="none", out=tmp_path / "a")
    assert round(100 * result.summary["accuracy"], 2) == published
    saved = json.loads((tmp_path / "a" / "alignment.json").read_text())
    assert saved["protocol"]["name"] in ("office", "digits")


def test_pca_baseline_matches_the_published_column(tmp_path: Path, shared_data: Path) -> None:
    """MEDA Table 3, PCA + 1-NN: M->U 66.2 (measured 66.22 with dim=100)."""
    cfg = {"data": {"source": "mnist-usps-jda:mnist", "target": "mnist-usps-jda:usps"}}
    result = api.align(cfg, method="pca", out=tmp_path / "p", params={"k": 100})
    assert abs(100 * result.summary["accuracy"] - 66.2) < 0.1
    assert result.summary["params"] == {"dim": 100}


def test_pca_projects_both_domains_on_dim_axes() -> None:
    rng = np.random.default_rng(0)
    xs, ys, xt = rng.normal(size=(30, 8)), np.zeros(30), rng.normal(size=(20, 8))
    out = classic.adapt("pca", xs, ys, xt, dim=3)
    assert out.zs.shape == (30, 3) and out.zt.shape == (20, 3)
    # one joint projection: the projected joint data are centred
    np.testing.assert_allclose(np.vstack([out.zs, out.zt]).mean(axis=0), 0.0, atol=1e-12)
    with pytest.raises(ValueError, match="dim must be between 1 and 8"):
        classic.adapt("pca", xs, ys, xt)  # the default 100 exceeds 8 features


def test_paper_names_are_aliases_and_unknown_names_list_the_valid_ones() -> None:
    assert canonical("jda", {"lambda": 0.1, "k": 50, "T": 3}) == {
        "lam": 0.1,
        "dim": 50,
        "iterations": 3,
    }
    assert canonical("coral", {"λ": 2.0}) == {"eps": 2.0}
    assert canonical("tca", {"μ": 0.5}) == {"mu": 0.5}
    with pytest.raises(ValueError, match="takes eps; got unknown k"):
        canonical("coral", {"k": 1})


def test_the_parameter_table_matches_the_method_signatures() -> None:
    assert defaults_match()
    text = params_help()
    for method in classic.CLASSIC_METHODS:
        assert f"{method}: " in text
    assert "lam=1.0 (λ" in text and "mu=1.0 (μ" in text


def test_help_lists_every_method_and_its_parameters(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "align", "--help")
    assert code == 0
    flat = " ".join(out.split())
    for needle in ("gfk: dim=20", "pca: dim=100", "lam=1.0", "--protocol", "lambda/λ -> lam"):
        assert needle in flat, needle


def test_unknown_param_is_a_one_line_error_listing_valid_names(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, shared_data: Path
) -> None:
    cfg = _config(tmp_path, "office-caltech-surf:dslr", "office-caltech-surf:webcam")
    args = [
        "align",
        str(cfg),
        "--method",
        "jda",
        "--param",
        "lamda=1",
        "--out",
        str(tmp_path / "x"),
    ]
    code, _, err = run(capsys, *args)
    assert_user_error(code, err, "takes dim, lam, iterations")
    assert not (tmp_path / "x").exists()


def test_config_sections_are_honoured(tmp_path: Path, shared_data: Path) -> None:
    cfg = _config(
        tmp_path,
        "office-caltech-surf:dslr",
        "office-caltech-surf:webcam",
        preprocess={"scaler": "none"},
        features={"select": "chi2", "k": 50},
    )
    result = api.align(cfg, method="none", out=tmp_path / "a")
    assert result.summary["protocol"]["name"] == "config"
    assert result.summary["features"]["select"] == "chi2"
    # the selection really ran: a 50-column PCA is accepted, a 51-column one is not
    api.align(cfg, method="sa", params={"dim": 50}, out=tmp_path / "b")
    with pytest.raises(ConfigError, match="dim must be between 1 and 50"):
        api.align(cfg, method="sa", params={"dim": 51}, out=tmp_path / "c")


def test_config_preprocess_and_protocol_together_are_refused(
    tmp_path: Path, shared_data: Path
) -> None:
    cfg = _config(
        tmp_path, "office-caltech-surf:dslr", "office-caltech-surf:webcam",
        preprocess={"scaler": "standard"},
    )  # fmt: skip
    with pytest.raises(ConfigError, match="both set the preprocessing"):
        api.align(cfg, method="none", protocol="office", out=tmp_path / "a")


def test_convergence_warnings_become_one_domainfit_note(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    shared_data: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = classic.make_classifier
    monkeypatch.setattr(classic, "make_classifier", lambda n, c=1.0: real(n, c, max_iter=1))
    cfg = _config(tmp_path, "office-caltech-surf:dslr", "office-caltech-surf:webcam")
    args = ["align", str(cfg), "--method", "jda", "--param", "T=2", "--classifier", "svm"]
    code, out, err = run(capsys, *args, "--out", str(tmp_path / "a"))
    assert code == 0, err
    assert "ConvergenceWarning" not in out + err
    assert (out + err).count("note: svm stopped at its iteration limit") == 1
