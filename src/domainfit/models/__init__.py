"""Pretrained backbones, heads and layer groups."""
