"""The desktop front end: every module here may import Qt; nothing in the core may."""
