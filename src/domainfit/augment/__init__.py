"""Training-time augmentation: ``augment:`` operations applied to training batches only,
reproducible from the run's seed, the epoch and the batch position (so a resumed run sees the
same augmented batches as one never stopped)."""
