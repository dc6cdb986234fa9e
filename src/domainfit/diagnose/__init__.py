"""Why transfer works poorly: checks that emit ranked findings."""
