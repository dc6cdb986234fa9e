"""Layer groups, shallow to deep, declared per family by patterns over parameter names.

A pattern is (name, regex). A regex with a capture group makes one group per captured block
number ("layer.{}" with ``^encoder\\.layer\\.(\\d+)\\.`` gives layer.0, layer.1, ...). Groups are
ordered by pattern, then by block number. Strategies only ever see these groups.
Parameters no pattern claims go to a last group named "other" (the contract tests for each
family require it to be empty); the ``generic`` family groups by top-level module order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from torch import nn

Pattern = tuple[str, str]

FAMILY_PATTERNS: dict[str, list[Pattern]] = {
    "bert": [
        ("embeddings", r"^embeddings\."),
        ("layer.{}", r"^encoder\.layer\.(\d+)\."),
        ("pooler", r"^pooler\."),
    ],
    "distilbert": [
        ("embeddings", r"^embeddings\."),
        ("layer.{}", r"^transformer\.layer\.(\d+)\."),
    ],
    "hf_vit": [
        ("embeddings", r"^embeddings\."),
        ("layer.{}", r"^(?:encoder\.layer|layers)\.(\d+)\."),
        ("norm", r"^(?:layernorm|pooler)\."),
    ],
    "hf_resnet": [("embedder", r"^embedder\."), ("stage.{}", r"^encoder\.stages\.(\d+)\.")],
    "hf_convnext": [
        ("embeddings", r"^embeddings\."),
        ("stage.{}", r"^encoder\.stages\.(\d+)\."),
        ("norm", r"^layernorm\."),
    ],
    "timm_resnet": [("stem", r"^(?:conv1|bn1)\."), ("layer{}", r"^layer(\d+)\.")],
    "timm_convnext": [
        ("stem", r"^stem\."),
        ("stage.{}", r"^stages\.(\d+)\."),
        ("norm", r"^(?:norm_pre|head\.norm)\."),
    ],
    "timm_vit": [
        ("embed", r"^(?:cls_token|reg_token|pos_embed|patch_embed)"),
        ("block.{}", r"^blocks\.(\d+)\."),
        ("norm", r"^(?:norm|fc_norm)\."),
    ],
    "timm_efficientnet": [
        ("stem", r"^(?:conv_stem|bn1)\."),
        ("block.{}", r"^blocks\.(\d+)\."),
        ("conv_head", r"^(?:conv_head|bn2)\."),
    ],
    "torchvision_resnet": [("stem", r"^(?:conv1|bn1)\."), ("layer{}", r"^layer(\d+)\.")],
}


@dataclass
class LayerGroup:
    name: str
    params: list[tuple[str, nn.Parameter]] = field(default_factory=list)

    @property
    def numel(self) -> int:
        return sum(p.numel() for _, p in self.params)


def layer_groups(model: nn.Module, family: str) -> list[LayerGroup]:
    """Every parameter of ``model`` in exactly one group, shallow to deep."""
    patterns = FAMILY_PATTERNS.get(family)
    if patterns is None:
        return _by_module_order(model)
    compiled = [(name, re.compile(rx)) for name, rx in patterns]
    keyed: dict[tuple[int, int], LayerGroup] = {}
    other = LayerGroup("other")
    for pname, param in model.named_parameters():
        for rank, (name, rx) in enumerate(compiled):
            m = rx.match(pname)
            if m:
                block = int(m.group(1)) if m.groups() else 0
                key = (rank, block)
                if key not in keyed:
                    keyed[key] = LayerGroup(name.format(block) if m.groups() else name)
                keyed[key].params.append((pname, param))
                break
        else:
            other.params.append((pname, param))
    groups = [keyed[k] for k in sorted(keyed)]
    return groups + ([other] if other.params else [])


def _by_module_order(model: nn.Module) -> list[LayerGroup]:
    groups: list[LayerGroup] = []
    own = [(n, p) for n, p in model.named_parameters(recurse=False)]
    if own:
        groups.append(LayerGroup("params", own))
    for child_name, child in model.named_children():
        params = [(f"{child_name}.{n}", p) for n, p in child.named_parameters()]
        if params:
            groups.append(LayerGroup(child_name, params))
    return groups
