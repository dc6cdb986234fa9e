from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from domainfit.config import TimeFeaturesConfig
from domainfit.data.time_features import add_time_features
from domainfit.errors import ConfigError, DataError

NAN = np.nan
ALL = TimeFeaturesConfig(lags=[1, 2], diffs=[1], rolling=[2], rolling_stats=["mean", "max"])


def _tiny() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Two groups, rows shuffled in the file; group A has two rows at time 4."""
    frame = pd.DataFrame(
        {"x": [10.0, 20.0, 30.0, 1.0, 2.0, 40.0, 3.0, 50.0], "s": list("abcdefgh")},
        index=[f"r{i}" for i in range(8)],
    )
    times = np.array([1, 2, 3, 1, 2, 4, 3, 4])
    groups = np.array(["A", "A", "A", "B", "B", "A", "B", "A"])
    return frame, times, groups


def test_hand_checked_values_with_two_groups() -> None:
    frame, times, groups = _tiny()
    out = add_time_features(frame, times, groups, ALL)
    assert list(out.index) == list(frame.index)  # original order and index
    assert list(out.columns) == [
        "x", "s", "x_lag1", "x_lag2", "x_diff1", "x_roll2_mean", "x_roll2_max",
    ]  # fmt: skip
    # A: t=1:10, t=2:20, t=3:30, t=4:40 and 50 (a tie).  B: t=1:1, t=2:2, t=3:3.
    expected = {
        "x_lag1": [NAN, 10, 20, NAN, 1, 30, 2, 30],
        "x_lag2": [NAN, NAN, 10, NAN, NAN, 20, 1, 20],
        "x_diff1": [NAN, NAN, 10, NAN, NAN, 10, 1, 10],
        "x_roll2_mean": [NAN, NAN, 15, NAN, NAN, 25, 1.5, 25],
        "x_roll2_max": [NAN, NAN, 20, NAN, NAN, 30, 2, 30],
    }
    for col, values in expected.items():
        np.testing.assert_array_equal(out[col].to_numpy(), values, err_msg=col)
    pd.testing.assert_frame_equal(out[["x", "s"]], frame)


def _random_panel(seed: int = 0, n: int = 120) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"u": rng.normal(size=n), "v": rng.normal(size=n)})
    frame.loc[rng.choice(n, 8, replace=False), "v"] = np.nan
    times = rng.integers(0, 30, n)  # many ties
    groups = rng.choice(["g1", "g2", "g3"], n)
    return frame, times, groups


CFG = TimeFeaturesConfig(lags=[1, 3], diffs=[1, 2], rolling=[2, 4], rolling_stats=["mean", "std"])


@pytest.mark.parametrize("cutoff", [0, 5, 13, 21, 29])
def test_no_value_uses_the_present_or_the_future(cutoff: int) -> None:
    frame, times, groups = _random_panel()
    before = add_time_features(frame, times, groups, CFG)
    changed = frame.copy()
    later = times >= cutoff
    changed.loc[later, ["u", "v"]] = 1e6 + np.arange(later.sum())[:, None]
    after = add_time_features(changed, times, groups, CFG)
    new_cols = [c for c in before.columns if c not in ("u", "v")]
    # Rows at the cutoff time itself see only strictly earlier rows, so they are unchanged too.
    upto = times <= cutoff
    pd.testing.assert_frame_equal(before.loc[upto, new_cols], after.loc[upto, new_cols])


def test_groups_never_mix() -> None:
    frame, times, groups = _random_panel(seed=1)
    before = add_time_features(frame, times, groups, CFG)
    changed = frame.copy()
    changed.loc[groups != "g1", "u"] = -1e6
    after = add_time_features(changed, times, groups, CFG)
    g1 = groups == "g1"
    pd.testing.assert_frame_equal(before[g1], after[g1])


def test_equal_timestamps_share_their_past() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    out = add_time_features(frame, np.array([0, 1, 1, 1]), None, TimeFeaturesConfig(lags=[1]))
    np.testing.assert_array_equal(out["x_lag1"], [NAN, 1.0, 1.0, 1.0])


def test_matches_pandas_shift_and_rolling_without_ties() -> None:
    rng = np.random.default_rng(2)
    n = 60
    frame = pd.DataFrame({"y": rng.normal(size=n)})
    times = rng.permutation(n)  # unique times, file order shuffled
    groups = rng.choice(["a", "b"], n)
    out = add_time_features(frame, times, groups, CFG)
    ref = frame.assign(t=times, g=groups).sort_values(["g", "t"])
    past = ref.groupby("g")["y"].shift(1)
    for k in (1, 3):
        want = ref.groupby("g")["y"].shift(k).sort_index()
        np.testing.assert_allclose(out[f"y_lag{k}"], want)
    for k in (1, 2):
        want = (past - ref.assign(p=past).groupby("g")["p"].shift(k)).sort_index()
        np.testing.assert_allclose(out[f"y_diff{k}"], want)
    for w in (2, 4):
        roll = ref.assign(p=past).groupby("g")["p"].rolling(w).mean().droplevel(0)
        np.testing.assert_allclose(out[f"y_roll{w}_mean"], roll.sort_index())
        std = ref.assign(p=past).groupby("g")["p"].rolling(w).std(ddof=0).droplevel(0)
        np.testing.assert_allclose(out[f"y_roll{w}_std"], std.sort_index())


def test_rolling_skips_missing_values_and_datetimes_sort() -> None:
    frame = pd.DataFrame({"x": [1.0, NAN, 3.0, 5.0]})
    times = pd.to_datetime(["2024-01-04", "2024-01-02", "2024-01-03", "2024-01-01"]).to_numpy()
    cfg = TimeFeaturesConfig(rolling=[2], rolling_stats=["mean", "min"])
    out = add_time_features(frame, times, None, cfg)
    # Time order: 5 (jan 1), NaN (jan 2), 3 (jan 3), 1 (jan 4).
    np.testing.assert_array_equal(out["x_roll2_mean"], [3.0, NAN, 5.0, NAN])
    np.testing.assert_array_equal(out["x_roll2_min"], [3.0, NAN, 5.0, NAN])


def test_user_errors() -> None:
    frame, times, groups = _tiny()
    with pytest.raises(DataError, match="unknown column.*'nope'.*choose from: x, s"):
        add_time_features(frame, times, groups, TimeFeaturesConfig(columns=["nope"], lags=[1]))
    with pytest.raises(DataError, match=r"\['s'\] are not numeric"):
        add_time_features(frame, times, groups, TimeFeaturesConfig(columns=["s"], lags=[1]))
    with pytest.raises(ConfigError, match="builds nothing"):
        add_time_features(frame, times, groups, TimeFeaturesConfig())
    with pytest.raises(DataError, match="no numeric column"):
        add_time_features(frame[["s"]], times, groups, TimeFeaturesConfig(lags=[1]))
    gaps = times.astype(float)
    gaps[3] = np.nan
    with pytest.raises(DataError, match="1 row.*no time value"):
        add_time_features(frame, gaps, groups, TimeFeaturesConfig(lags=[1]))
    clash = frame.assign(x_lag1=0.0)
    with pytest.raises(DataError, match="x_lag1.*already exist"):
        add_time_features(clash, times, groups, TimeFeaturesConfig(lags=[1]))
