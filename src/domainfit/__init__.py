"""domainfit: adapt pretrained models to your domain's data, and learn why it works or fails."""

__version__ = "0.1.0"
