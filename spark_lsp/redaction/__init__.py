"""Keeping secrets out of what leaves the process: the prompts sent to a model, the logs."""
