"""Costs per sample: priors (for ``--dry-run``), or measured on this machine before the first
step with ``rank``'s cost probe (a few batches of inference and of full training)."""

from __future__ import annotations

from domainfit.auto import priors
from domainfit.auto.budget import Costs
from domainfit.auto.decide import Setup
from domainfit.models.specs import parse_spec


def prior_costs(model: str, setup: Setup) -> Costs:
    key = "mlp" if parse_spec(model).kind == "mlp" else setup.modality
    prior = priors.CPU_COSTS.get(key, priors.CPU_COSTS["image"])
    speedup = priors.GPU_SPEEDUP if _cuda() else 1.0
    return Costs(prior.infer / speedup, prior.train / speedup, prior.overhead, "prior")


def measured_costs(model: str, setup: Setup) -> Costs:
    """Times a few batches of ``model`` on the source's training data. An mlp costs next to
    nothing per sample (its runs are all overhead): the prior stands, and the calibration
    after the first step sets the scale."""
    prior = prior_costs(model, setup)
    if parse_spec(model).kind == "mlp":
        return prior
    from domainfit.config_io import load_config
    from domainfit.data.loaders import EncodedSet
    from domainfit.fit import build_model
    from domainfit.models.inputs import input_encoder
    from domainfit.rank.cost import measure_cost

    raw = {**setup.raw, "model": {**setup.raw.get("model", {}), "backbone": model}}
    cfg = load_config(raw, setup.overrides)
    assert cfg.model is not None
    parts = build_model(cfg, setup.prepared)  # the default strategy (full): all weights train
    encode, pad_id = input_encoder(parts.backbone, cfg.model, parts.preprocessor, None)
    batch = cfg.train.batch_size
    train = setup.prepared.folds["source"][0]["train"]
    sample = setup.prepared.clean["source"].subset(train[: batch * 4])
    data = EncodedSet(encode(sample), None, pad_id)
    cost = measure_cost(parts.model.encoder, data, batch, len(train), 1)
    rows = min(batch, len(sample))
    return Costs(
        cost.latency_ms / 1000.0, cost.step_seconds / max(1, rows), prior.overhead, "measured"
    )


def _cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())
