"""Training engine: optimisers, schedules, checkpoints, the loop."""
