"""mSDA: marginalized stacked denoising autoencoders (Chen, Xu, Weinberger & Sha, ICML 2012).

A denoising layer learns a linear map W that rebuilds each input x from a corrupted copy x~ in
which every feature was set to 0 independently with probability p. mSDA does not draw the
corruptions: it minimises the *expected* squared reconstruction error over all of them, which
has a closed form. Samples are rows here (Chen et al. write them as columns).

Let X (n, d) be the inputs and X' = [X, 1] (n, d+1) with a bias feature that is never
corrupted. Each corrupted feature is x~_j = z_j x_j with z_j ~ Bernoulli(q_j), where
q = (1-p, ..., 1-p, 1) in R^{d+1}. With the scatter matrix S = X'^T X' (d+1, d+1):

    P = E[sum_i x_i x~_i^T]  ->  P_jk = S_jk q_k                       (j <= d: the d outputs)
    Q = E[sum_i x~_i x~_i^T] ->  Q_jk = S_jk q_j q_k  (j != k),   Q_jj = S_jj q_j

because E[z_j z_k] = q_j q_k for j != k and E[z_j^2] = q_j. The layer's weights minimise
E[sum_i ||x_i - W x~_i||^2] over W (d, d+1):

    W = P (Q + reg I)^{-1}                                               (reg: a small ridge)

and its output is the squashed reconstruction h = tanh(W [x, 1]) in (-1, 1)^d. Layers stack: the
l-th is learnt on the (uncorrupted) outputs of the (l-1)-th. The representation handed to a
classifier is the input next to every layer's output, [x, h_1, ..., h_L], of width d (L+1).

Being unsupervised, the layers are learnt on the union of source and target inputs, which is
how mSDA adapts: features that co-occur across domains rebuild each other, so a classifier on
the source's words also fires on the target's correlated words.

Cost per layer: the scatter matrix O(n d^2) (sparse for the first layer), one symmetric positive
definite solve with d right-hand sides O(d^3) in float64, and O(n d^2) per transform. With
d = 5000 that is a few 200 MB (d+1, d+1) float64 matrices at a time and tens of seconds on two
cores; the transform runs in float32 (``dtype``) by default.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
import scipy.sparse as sp

ArrayLike = np.ndarray | sp.spmatrix | sp.sparray


def _check_noise(noise: float) -> float:
    if not 0.0 <= float(noise) < 1.0:
        raise ValueError(f"noise must be a corruption probability in [0, 1), got {noise!r}")
    return float(noise)


def _as_input(x: ArrayLike, dtype: type = np.float64) -> np.ndarray | sp.csr_matrix:
    """A (n, d) float64 CSR matrix or ``dtype`` array with n >= 1, d >= 1, all values finite."""
    if sp.issparse(x):
        m = sp.csr_matrix(x, dtype=np.float64)
        values = m.data
    else:
        m = np.asarray(x, dtype=dtype)
        values = m
    if m.ndim != 2 or m.shape[0] < 1 or m.shape[1] < 1:
        raise ValueError(f"x must be a 2-d (samples, features) matrix, got shape {m.shape}")
    if not np.isfinite(values).all():
        raise ValueError("x holds NaN or infinite values")
    return m


def scatter_with_bias(x: ArrayLike, dtype: type = np.float64) -> np.ndarray:
    """S = [x, 1]^T [x, 1], a dense (d+1, d+1) matrix in ``dtype`` (x (n, d) dense or sparse;
    a sparse product is always summed in float64)."""
    m = _as_input(x, dtype)
    n, d = m.shape
    s = np.empty((d + 1, d + 1), dtype=dtype)
    if sp.issparse(m):
        s[:d, :d] = (m.T @ m).toarray()
        col = np.asarray(m.sum(axis=0)).ravel()
    else:
        s[:d, :d] = m.T @ m
        col = m.sum(axis=0, dtype=np.float64)
    s[:d, d] = col
    s[d, :d] = col
    s[d, d] = n
    return s


def denoising_weights(
    x: ArrayLike, noise: float, reg: float = 1e-5, dtype: type = np.float64
) -> np.ndarray:
    """W = P (Q + reg I)^{-1}, (d, d+1) float64: the marginalized denoising map of one layer
    (module docstring). ``x`` (n, d) dense or sparse; ``noise`` = p, the chance of zeroing a
    feature. ``dtype`` is the precision of the scatter matrix and the Cholesky solve: float32
    halves the time and stays within ~1e-5 of float64 on the Amazon features at p >= 0.3; a
    float32 factorisation that fails is redone in float64."""
    p = _check_noise(noise)
    if reg < 0:
        raise ValueError(f"reg must be >= 0, got {reg!r}")
    s = scatter_with_bias(x, dtype)
    d = s.shape[0] - 1
    q = np.full(d + 1, 1.0 - p, dtype=dtype)
    q[d] = 1.0
    diag = np.diag(s).copy()
    # W^T = (Q + reg I)^{-1} P^T as Q is symmetric; (P^T)_kj = q_k S_kj, i.e. q[:, None] * S
    rhs = q[:, None] * s[:, :d]
    s *= q[:, None]
    s *= q[None, :]  # s is Q now, except for its diagonal
    s[np.diag_indices_from(s)] = diag * q + reg
    try:
        wt = _spd_solve(s, rhs)
    except np.linalg.LinAlgError:
        if dtype == np.float64:
            wt = scipy.linalg.lstsq(s, rhs)[0]  # singular without a ridge: least-norm solution
        else:
            return denoising_weights(x, noise, reg, np.float64)
    return np.ascontiguousarray(wt.T, dtype=np.float64)


def _spd_solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a^{-1} b for a symmetric positive definite ``a`` (both overwritten)."""
    factor = scipy.linalg.cho_factor(a, overwrite_a=True, check_finite=False)
    out = scipy.linalg.cho_solve(factor, b, overwrite_b=True, check_finite=False)
    if not np.isfinite(out).all():
        raise np.linalg.LinAlgError("non-finite solution")
    return np.asarray(out)


def apply_layer(weights: np.ndarray, x: ArrayLike, dtype: type = np.float32) -> np.ndarray:
    """h = tanh(W [x, 1]) for every row of x (n, d): (n, d) in ``dtype``."""
    w = np.asarray(weights)
    d = w.shape[0]
    if w.shape != (d, d + 1):
        raise ValueError(f"weights must be (d, d+1), got shape {w.shape}")
    m = x.tocsr() if sp.issparse(x) else np.asarray(x)
    if m.ndim != 2 or m.shape[1] != d:
        raise ValueError(f"x must be (n, {d}), got shape {m.shape}")
    lin = w[:, :d].T.astype(dtype, copy=False)
    out = np.asarray(m.astype(dtype) @ lin, dtype=dtype)
    out += w[:, d].astype(dtype)
    np.tanh(out, out=out)
    return out


@dataclass
class MSDA:
    """A stack of ``layers`` marginalized denoising layers with corruption ``noise``.

    ``fit(x)`` learns the layers on x (n, d) (source and target inputs together, unlabelled);
    ``transform(x)`` gives [x, h_1, ..., h_L] (n, d (L+1)), or only the layers' outputs with
    ``include_input=False``. Deterministic: no random draws anywhere.
    """

    noise: float = 0.5
    layers: int = 5
    reg: float = 1e-5
    dtype: type = np.float32
    weights: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        _check_noise(self.noise)
        if isinstance(self.layers, bool) or not isinstance(self.layers, int) or self.layers < 1:
            raise ValueError(f"layers must be a positive integer, got {self.layers!r}")

    def fit(self, x: ArrayLike) -> MSDA:
        self._learn(x, keep=False)
        return self

    def fit_transform(self, x: ArrayLike, include_input: bool = True) -> np.ndarray:
        """``fit(x).transform(x)``, reusing the layer outputs that fitting computes anyway."""
        m = _as_input(x)
        return self._stack(m, self._learn(m, keep=True), include_input)

    def fit_layer_outputs(self, x: ArrayLike) -> list[np.ndarray]:
        """``fit(x).layer_outputs(x)`` at the cost of ``fit(x)`` alone."""
        return self._learn(x, keep=True)

    def layer_outputs(self, x: ArrayLike) -> list[np.ndarray]:
        """[h_1, ..., h_L], each (n, d) in ``dtype``."""
        if not self.weights:
            raise ValueError("MSDA is not fitted; call fit(x) first")
        out: list[np.ndarray] = []
        h: ArrayLike = _as_input(x)
        for w in self.weights:
            h = apply_layer(w, h, self.dtype)
            out.append(h)
        return out

    def transform(self, x: ArrayLike, include_input: bool = True) -> np.ndarray:
        """[x, h_1, ..., h_L] (n, d (L+1)), or [h_1, ..., h_L] without the input."""
        m = _as_input(x)
        return self._stack(m, self.layer_outputs(m), include_input)

    def _learn(self, x: ArrayLike, keep: bool) -> list[np.ndarray]:
        """Learn the layers one after the other; their outputs on x when ``keep``."""
        self.weights = []
        outputs: list[np.ndarray] = []
        h: ArrayLike = _as_input(x)
        for i in range(self.layers):
            w = denoising_weights(h, self.noise, self.reg, self.dtype)
            self.weights.append(w)
            if keep or i + 1 < self.layers:
                h = apply_layer(w, h, self.dtype)
                if keep:
                    outputs.append(h)
        return outputs

    def _stack(self, m: ArrayLike, blocks: list[np.ndarray], include_input: bool) -> np.ndarray:
        if include_input:
            dense = m.toarray() if sp.issparse(m) else np.asarray(m)
            blocks = [dense.astype(self.dtype), *blocks]
        return np.hstack(blocks)
