"""``domainfit auto``: audit, plan, train and choose under a compute budget, then compare the
winner with its baselines, diagnose and export it. The entry point is ``main.run_auto``."""
