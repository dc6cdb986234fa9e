"""CDAN: conditional domain-adversarial training (Long et al., NeurIPS 2018).

DANN aligns the marginal feature distributions, which can match target features of one class to
source features of another. CDAN conditions the discriminator on the classifier's predictions:
D sees the multilinear map of the features f (d,) and the class probabilities g (k,),

    T(f, g) = f ⊗ g = vec(f g^T)            in R^{d k}   (when d k <= 4096)

whose joint distribution only matches across domains when features *and* their class structure
do. When d k > 4096 the map would be too wide, and the randomized multilinear map stands in:

    T(f, g) = (f R_f) ⊙ (g R_g) / sqrt(m)    in R^m,  m = 1024 (option ``random_dim``)

with R_f (d, m), R_g (k, m) fixed standard-normal matrices (buffers, drawn at construction from
a generator seeded with option ``seed``, so two constructions agree); its inner products are
unbiased estimates of those of f ⊗ g: E <T(f,g), T(f',g')> = <f,f'> <g,g'>.

The loss is DANN's (``dann.py``: the same gradient reversal, Ganin schedule, discriminator MLP
and per-domain-averaged BCE), with D on R_c(T(f, g)):

    L = 1/2 [ sum_i w_i BCE(D(R_c T_i), 1) / sum_i w_i + sum_j w_j BCE(D(R_c T_j), 0) / sum_j w_j ]

w = 1 everywhere (CDAN), or with option ``entropy_weighting=True`` (CDAN+E) w_i = 1 + exp(-H(g_i))
so that confidently predicted samples, whose g is a trustworthy condition, count more.

g is *detached*: as in the authors' released code, the predictions are a condition the features
are aligned under, not a quantity the adversarial game trains; the classifier learns from the
task loss only (letting the reversed gradient reach g rewards making predictions uninformative
about the domain, i.e. blurring them, which fights the task loss). The entropy weights are built
from the detached g too. So L's gradient reaches f_s and f_t (reversed) and the discriminator,
not the logits.

Shapes: f_s (n_s, d), f_t (n_t, d), logits_s (n_s, k), logits_t (n_t, k) (a binary head's
(n,) / (n, 1) are read as k = 2) -> T (n, d k) or (n, m) -> D's logits (n,) -> L a scalar.

Options: ``entropy_weighting`` (False), ``random_dim`` (1024), ``max_product`` (4096: the d k
above which the randomized map is used), ``seed`` (0), and DANN's ``hidden``, ``dropout``,
``schedule``, ``gamma``.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch

from domainfit.adapt.base import (
    DOMAIN_LOSSES,
    DomainLoss,
    check_features,
    class_probabilities,
    require_logits,
)
from domainfit.adapt.dann import (
    DomainDiscriminator,
    adversarial_options,
    default_hidden,
    domain_bce,
    reversal_coefficient,
    reverse_gradient,
)
from domainfit.adapt.entropy import prediction_entropy


@DOMAIN_LOSSES.register("cdan")
class CDANLoss(DomainLoss):
    """Conditional adversarial loss on the (randomized) multilinear map of features and detached
    class probabilities (module docstring has the maths)."""

    name: ClassVar[str] = "cdan"
    needs_logits: ClassVar[bool] = True

    random_f: torch.Tensor | None
    random_g: torch.Tensor | None

    def __init__(self, features: int, classes: int, **options: Any) -> None:
        super().__init__(features, classes)
        opts = adversarial_options(
            self.name,
            options,
            entropy_weighting=False,
            random_dim=1024,
            max_product=4096,
            seed=0,
        )
        for key in ("random_dim", "max_product"):
            if not isinstance(opts[key], int) or isinstance(opts[key], bool) or opts[key] < 1:
                raise ValueError(
                    f"{self.name}: {key} must be a positive integer, got {opts[key]!r}"
                )
        if not isinstance(opts["entropy_weighting"], bool):
            raise ValueError(
                f"{self.name}: entropy_weighting must be true or false, "
                f"got {opts['entropy_weighting']!r}"
            )
        if not isinstance(opts["seed"], int) or isinstance(opts["seed"], bool):
            raise ValueError(f"{self.name}: seed must be an integer, got {opts['seed']!r}")
        self.schedule: str = opts["schedule"]
        self.gamma = float(opts["gamma"])
        self.entropy_weighting: bool = opts["entropy_weighting"]
        self.k = 2 if classes == 1 else classes  # a binary head's one logit: 2 probabilities
        self.randomized = features * self.k > opts["max_product"]
        if self.randomized:
            self.random_dim: int = opts["random_dim"]
            generator = torch.Generator().manual_seed(int(opts["seed"]))
            self.register_buffer(
                "random_f", torch.randn(features, self.random_dim, generator=generator)
            )
            self.register_buffer(
                "random_g", torch.randn(self.k, self.random_dim, generator=generator)
            )
            inputs = self.random_dim
        else:
            self.random_f = None
            self.random_g = None
            inputs = features * self.k
        hidden = opts["hidden"] or default_hidden(inputs)
        self.discriminator = DomainDiscriminator(inputs, hidden, float(opts["dropout"]))

    def coefficient(self, progress: float) -> float:
        return reversal_coefficient(self.schedule, progress, self.gamma)

    def multilinear_map(self, f: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """T(f, g): (n, d), (n, k) -> (n, d k), or (n, m) for the randomized map."""
        f = f.float()
        g = g.float()
        if self.random_f is not None and self.random_g is not None:
            return (f @ self.random_f) * (g @ self.random_g) / math.sqrt(self.random_dim)
        return torch.einsum("nd,nk->ndk", f, g).reshape(len(f), -1)

    def forward(
        self,
        f_s: torch.Tensor,
        f_t: torch.Tensor,
        logits_s: torch.Tensor | None = None,
        logits_t: torch.Tensor | None = None,
        progress: float = 1.0,
    ) -> torch.Tensor:
        check_features(self.name, f_s, f_t, self.features)
        logits = [
            require_logits(self.name, logits_s, "logits_s", len(f_s)).detach(),
            require_logits(self.name, logits_t, "logits_t", len(f_t)).detach(),
        ]
        g = torch.cat([class_probabilities(x.float()) for x in logits])
        if g.shape[1] != self.k:
            raise ValueError(
                f"{self.name}: built for {self.k} classes but the logits give {g.shape[1]}"
            )
        f = reverse_gradient(torch.cat([f_s, f_t]), self.coefficient(progress))
        logit = self.discriminator(self.multilinear_map(f, g))
        n_s = len(f_s)
        if not self.entropy_weighting:
            return domain_bce(logit[:n_s], logit[n_s:])
        weight = 1.0 + torch.exp(-torch.cat([prediction_entropy(x) for x in logits]))
        return domain_bce(logit[:n_s], logit[n_s:], weight[:n_s], weight[n_s:])
