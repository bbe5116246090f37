"""The desktop: the app's composition root and how Coreg meets the desktop around it (tray icon,
media keys over MPRIS, one running instance, the launcher entry, start at login).

The widgets themselves live in `coreg_desktop.ui`; the Qt-free engine lives in the top level.
"""
