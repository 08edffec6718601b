"""Code actions (generate function, fill template, ask stronger model): detected from the syntax
tree when listed, run through the router's tiers when resolved; see `service.py`."""
