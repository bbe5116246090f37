"""Practices as data: the model, the TOML loader and the timeline compiler."""
