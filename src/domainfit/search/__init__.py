"""Strategy and hyperparameter search (``domainfit sweep``) on Optuna."""
