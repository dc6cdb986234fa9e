"""Small digit networks for the benchmarks, loaded through ``python:digits_nets:<name>``."""

from __future__ import annotations

import torch
from torch import nn


class LeNet(nn.Module):
    """The LeNet variant of the deep digit benchmarks (TLlib's, ADDA's): two 5x5 conv layers
    (20, 50 channels) with max-pooling, then a 500-unit bottleneck; 28x28 inputs. Our image
    pipeline hands over 3 identical channels; the first layer reads their mean."""

    out_features = 500

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 20, kernel_size=5),
            nn.MaxPool2d(2),
            nn.ReLU(),
            nn.Conv2d(20, 50, kernel_size=5),
            nn.Dropout2d(0.5),
            nn.MaxPool2d(2),
            nn.ReLU(),
        )
        self.bottleneck = nn.Sequential(nn.Flatten(), nn.Linear(50 * 4 * 4, 500), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bottleneck(self.conv(x.mean(dim=1, keepdim=True)))


def lenet() -> nn.Module:
    return LeNet()


class DannCNN(nn.Module):
    """The DANN paper's MNIST -> MNIST-M feature extractor (Ganin et al., JMLR 2016): 5x5 conv
    (32) and 5x5 conv (48), each with max-pooling, on all three colour channels (MNIST-M is
    colour; the grey digits arrive repeated over them), then the label predictor's first 100-unit
    layer as the bottleneck the domain losses read. With ``model.head: {type: mlp, hidden: 100}``
    the classifier is the paper's FC 100 - FC 100 - FC 10 (the head's hidden layer with GELU);
    the paper's discriminator reads the conv features instead. 28x28 inputs."""

    out_features = 100

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(3, 32, kernel_size=5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 48, kernel_size=5),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.bottleneck = nn.Sequential(nn.Flatten(), nn.Linear(48 * 4 * 4, 100), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bottleneck(self.conv(x))


def dann_cnn() -> nn.Module:
    return DannCNN()
