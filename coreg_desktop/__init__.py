"""Coreg: offline, voice-guided practices for settling an overwhelmed nervous system."""

__version__ = "0.1.0"
APP_NAME = "coreg-desktop"
