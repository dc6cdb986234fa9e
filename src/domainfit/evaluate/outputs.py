"""A model's outputs on encoded samples: class probabilities (N, C), or values (N,) for
regression. Shared by fit (which saves them per split), evaluate and predict."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from domainfit.data.loaders import Batches, EncodedSet, restore_order
from domainfit.progress import track_batches


@torch.no_grad()
def model_outputs(
    model: nn.Module,
    data: EncodedSet,
    task: str,
    batch_size: int = 64,
    device: torch.device | str = "cpu",
    label: str = "predicting",
) -> np.ndarray:
    was_training = model.training
    model.eval()
    chunks = []
    # texts shortest first (a batch pads to its longest row); rows go back in the data's order
    batches = Batches(data, batch_size, shuffle=False, bucket=True)
    for batch in track_batches(batches, label):
        batch = {k: v.to(device) for k, v in batch.items() if k != "labels"}
        logits = model(batch).float()
        if task == "regression":
            chunks.append(logits.squeeze(-1))
        elif task == "binary":
            p1 = torch.sigmoid(logits.squeeze(-1))
            chunks.append(torch.stack([1 - p1, p1], dim=1))
        elif task == "multilabel":
            chunks.append(torch.sigmoid(logits))
        else:
            chunks.append(torch.softmax(logits, dim=-1))
    model.train(was_training)
    return restore_order(torch.cat(chunks).cpu().numpy(), batches.order)
