"""Choosing a pretrained model before training: transferability scores and costs."""
