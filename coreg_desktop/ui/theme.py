"""Coreg's look: a soft palette and one stylesheet, derived from the system's light or dark mode.

Someone opening Coreg may be in the middle of a panic attack. Nothing should shout: low-contrast
surfaces, one gentle teal accent, rounded cards, and room to breathe between things. Text still has
to be easy to read, so body text keeps strong contrast and sizes are relative to the system font
(in pt), and spacing grows with it, so a 150 % desktop font scales the whole window rather than
squeezing text into fixed boxes.

Widgets opt into a look with a `role` property (see `set_role`), so views never carry colours of
their own; everything that draws by hand (the orb, icons) asks `colors()` or `accent()`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QPointF, QRectF, QSize, Qt, QTemporaryDir
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QIcon,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QApplication, QStyleFactory, QWidget

log = logging.getLogger(__name__)

#: The property `set_role` sets and the stylesheet matches on.
ROLE_PROPERTY = "role"

#: Roles the stylesheet knows. Kept as a tuple so a typo in a view fails loudly in `set_role`.
ROLES: tuple[str, ...] = (
    "title",  # the big, quiet line at the top of a view
    "subtitle",  # the gentle sentence under it
    "heading",  # a section or card heading
    "muted",  # secondary text: lengths, helper text
    "small",  # smaller muted text
    "wordmark",  # "Coreg" in the header
    "card",  # a raised, rounded surface
    "section",  # a rounded group in the settings dialog
    "chip",  # a tag filter toggle
    "pill",  # a small non-interactive badge ("7 min")
    "primary",  # the one accented button of a view
    "ghost",  # a flat text button (header actions)
    "link",  # a quiet, underlined text button
    "round",  # a round icon button (play)
    "banner",  # an inline notice
    "header",  # the top bar of the main window
)


@dataclass(frozen=True)
class Colors:
    """The resolved tones for one mode; the stylesheet and hand-drawn widgets share them."""

    dark: bool
    window: QColor
    surface: QColor  # cards, fields
    surface_alt: QColor  # hovered cards, chips at rest
    text: QColor
    muted: QColor
    border: QColor
    accent: QColor
    accent_soft: QColor  # a tint of the accent for selected chips and badges
    accent_text: QColor  # text on a filled accent button
    focus: QColor
    lavender: QColor  # a second soft hue, for glows and gentle highlights


def hex_rgb(c: QColor) -> str:
    """`c` as #rrggbb, the form stylesheets take (views building their own QSS use it too)."""
    return c.name(QColor.NameFormat.HexRgb)


def mix(a: QColor, b: QColor, t: float) -> QColor:
    """`a` moved `t` of the way towards `b`."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
    )


def palette_is_dark(palette: QPalette) -> bool:
    """Dark when the window background is darker than its text: true for any sane palette."""
    window = palette.color(QPalette.ColorRole.Window)
    text = palette.color(QPalette.ColorRole.WindowText)
    return window.lightnessF() < text.lightnessF()


def system_is_dark(app: QGuiApplication) -> bool:
    """The desktop's colour scheme where Qt knows it (6.5+), else the palette's lightness.

    Qt reports Unknown on bare X servers and some desktops; the palette is then the best evidence,
    since the platform theme fills it from the desktop's settings.
    """
    hints = app.styleHints()
    scheme_of = getattr(hints, "colorScheme", None)
    if scheme_of is not None:
        scheme = scheme_of()
        if scheme == Qt.ColorScheme.Dark:
            return True
        if scheme == Qt.ColorScheme.Light:
            return False
    return palette_is_dark(app.palette())


def colors(dark: bool) -> Colors:
    """Calm tones for one mode. Both modes share the accent's hue so the app feels the same."""
    if dark:
        window = QColor("#1b1d24")
        surface = QColor("#242732")
        text = QColor("#e8e8ef")
        accent = QColor("#80cbc3")
        lavender = QColor("#a89de0")
        return Colors(
            dark=True,
            window=window,
            surface=surface,
            surface_alt=QColor("#2c303c"),
            text=text,
            muted=QColor("#a4a7b8"),
            border=QColor("#353a49"),
            accent=accent,
            accent_soft=mix(surface, accent, 0.22),
            accent_text=QColor("#10201e"),
            focus=mix(accent, text, 0.15),
            lavender=lavender,
        )
    window = QColor("#f4f3f7")
    surface = QColor("#ffffff")
    text = QColor("#2b2d3a")
    accent = QColor("#3b817b")
    lavender = QColor("#8c80cf")
    return Colors(
        dark=False,
        window=window,
        surface=surface,
        surface_alt=QColor("#eeedf4"),
        text=text,
        muted=QColor("#62667a"),
        border=QColor("#e0dee9"),
        accent=accent,
        accent_soft=mix(surface, accent, 0.14),
        accent_text=QColor("#ffffff"),
        focus=mix(accent, window, 0.1),
        lavender=lavender,
    )


def accent(palette: QPalette) -> QColor:
    """The accent that suits `palette` (lighter on dark backgrounds, deeper on light ones)."""
    return QColor(colors(palette_is_dark(palette)).accent)


def current_colors(widget: QWidget | None = None) -> Colors:
    """The tones in effect for `widget` (or the application), for widgets that paint themselves."""
    palette = widget.palette() if widget is not None else QGuiApplication.palette()
    return colors(palette_is_dark(palette))


def make_palette(c: Colors) -> QPalette:
    """A full palette, so native-drawn parts (checkbox marks, menus, focus frames) match too."""
    p = QPalette()
    roles = QPalette.ColorRole
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        p.setColor(group, roles.Window, c.window)
        p.setColor(group, roles.WindowText, c.text)
        p.setColor(group, roles.Base, c.surface)
        p.setColor(group, roles.AlternateBase, c.surface_alt)
        p.setColor(group, roles.Text, c.text)
        p.setColor(group, roles.Button, c.surface)
        p.setColor(group, roles.ButtonText, c.text)
        p.setColor(group, roles.BrightText, c.accent_text)
        p.setColor(group, roles.Highlight, c.accent)
        p.setColor(group, roles.HighlightedText, c.accent_text)
        p.setColor(group, roles.Link, c.accent)
        p.setColor(group, roles.LinkVisited, c.lavender)
        p.setColor(group, roles.ToolTipBase, c.surface)
        p.setColor(group, roles.ToolTipText, c.text)
        p.setColor(group, roles.PlaceholderText, c.muted)
        p.setColor(group, roles.Light, mix(c.surface, QColor("white"), 0.3))
        p.setColor(group, roles.Midlight, c.surface_alt)
        p.setColor(group, roles.Mid, c.border)
        p.setColor(group, roles.Dark, mix(c.border, c.text, 0.3))
        p.setColor(group, roles.Shadow, mix(c.window, QColor("black"), 0.5))
        if hasattr(roles, "Accent"):
            p.setColor(group, roles.Accent, c.accent)
    disabled = QPalette.ColorGroup.Disabled
    faded = mix(c.muted, c.window, 0.35)
    for role in (roles.WindowText, roles.Text, roles.ButtonText, roles.PlaceholderText):
        p.setColor(disabled, role, faded)
    for role in (roles.Window, roles.Base, roles.Button):
        p.setColor(disabled, role, c.window if role == roles.Window else c.surface_alt)
    p.setColor(disabled, roles.Highlight, c.border)
    p.setColor(disabled, roles.HighlightedText, faded)
    return p


def spacing_scale(font: QFont) -> float:
    """How much to grow padding and radii with the system font (1.0 at a 10 pt font)."""
    size = font.pointSizeF()
    if size <= 0:  # a pixel-sized font
        size = font.pixelSize() * 0.75
    return max(0.9, size / 10.0)


def stylesheet(c: Colors, font: QFont) -> str:
    """The application stylesheet. Font sizes in pt relative to `font`, spacing scaled with it."""
    base = font.pointSizeF() if font.pointSizeF() > 0 else font.pixelSize() * 0.75
    s = spacing_scale(font)

    def px(v: float) -> str:
        return f"{max(1, round(v * s))}px"

    def pt(f: float) -> str:
        return f"{base * f:.1f}pt"

    # Qt ignores a border-radius larger than half the box, so pill shapes take theirs from the
    # line height they will actually have.
    line = QFontMetrics(font).height()
    chip_radius = f"{(line + 2 * max(1, round(5 * s)) + 2) // 2}px"
    groove = max(4, round(6 * s)) // 2 * 2
    handle = max(14, round(18 * s)) // 2 * 2
    img = _theme_images(c, font)
    pill_radius = f"{(round(line * 0.9) + 2 * max(1, round(2 * s))) // 2}px"

    hover = hex_rgb(mix(c.surface, c.accent, 0.07))
    pressed = hex_rgb(mix(c.surface, c.accent, 0.16))
    accent_hover = hex_rgb(mix(c.accent, c.text if c.dark else c.window, 0.12))
    track = hex_rgb(mix(c.border, c.window, 0.2))
    w, sf, sa, tx, mu, bd = (
        hex_rgb(c.window),
        hex_rgb(c.surface),
        hex_rgb(c.surface_alt),
        hex_rgb(c.text),
        hex_rgb(c.muted),
        hex_rgb(c.border),
    )
    ac, ass, at, fo = (
        hex_rgb(c.accent),
        hex_rgb(c.accent_soft),
        hex_rgb(c.accent_text),
        hex_rgb(c.focus),
    )
    return f"""
QMainWindow, QDialog {{ background: {w}; }}
QWidget {{ color: {tx}; }}
QToolTip {{
    background: {sf}; color: {tx}; border: 1px solid {bd}; border-radius: {px(6)};
    padding: {px(6)} {px(9)};
}}
QLabel {{ background: transparent; }}
QLabel[role="title"] {{ font-size: {pt(1.75)}; font-weight: 300; }}
QLabel[role="subtitle"] {{ font-size: {pt(1.08)}; color: {mu}; }}
QLabel[role="heading"] {{ font-size: {pt(1.22)}; font-weight: 600; }}
QLabel[role="muted"] {{ color: {mu}; }}
QLabel[role="small"] {{ color: {mu}; font-size: {pt(0.9)}; }}
QLabel[role="wordmark"] {{
    color: {ac}; font-size: {pt(1.2)}; font-weight: 600; letter-spacing: 1px;
}}
QLabel[role="pill"] {{
    background: {ass}; color: {tx}; border-radius: {pill_radius};
    padding: {px(2)} {px(10)}; font-size: {pt(0.9)};
}}
QWidget[role="header"] {{ background: {w}; border-bottom: 1px solid {bd}; }}

QFrame[role="card"] {{
    background: {sf}; border: 1px solid {bd}; border-radius: {px(16)};
}}
QFrame[role="card"][hovered="true"] {{ background: {hover}; }}
QFrame[role="card"]:focus, QFrame[role="card"][current="true"]:focus {{
    border: 2px solid {fo};
}}
QFrame[role="card"][current="true"] {{ border: 1px solid {ac}; }}
QFrame[role="section"] {{
    background: {sf}; border: 1px solid {bd}; border-radius: {px(14)};
}}
QFrame[role="banner"] {{
    background: {ass}; border: 1px solid {bd}; border-radius: {px(12)};
}}

QPushButton, QToolButton {{
    background: {sf}; color: {tx}; border: 1px solid {bd}; border-radius: {px(10)};
    padding: {px(7)} {px(16)}; min-height: {px(20)};
}}
QPushButton:hover, QToolButton:hover {{ background: {hover}; }}
QPushButton:pressed, QToolButton:pressed {{ background: {pressed}; }}
QPushButton:focus, QToolButton:focus {{ border: 2px solid {fo}; }}
QPushButton:disabled {{ color: {hex_rgb(mix(c.muted, c.window, 0.35))}; background: {sa}; }}
QPushButton[role="primary"], QPushButton:default {{
    background: {ac}; color: {at}; border: 1px solid {ac}; font-weight: 600;
}}
QPushButton[role="primary"]:hover, QPushButton:default:hover {{ background: {accent_hover}; }}
QPushButton[role="primary"]:focus, QPushButton:default:focus {{ border: 2px solid {tx}; }}
QPushButton[role="primary"]:disabled, QPushButton:default:disabled {{
    background: {sa}; color: {hex_rgb(mix(c.muted, c.window, 0.35))}; border: 1px solid {bd};
    font-weight: 600;
}}
QPushButton[role="ghost"], QToolButton[role="ghost"] {{
    background: transparent; border: 1px solid transparent; color: {tx};
    padding: {px(6)} {px(12)};
}}
QPushButton[role="ghost"]:hover, QToolButton[role="ghost"]:hover {{ background: {sa}; }}
QPushButton[role="ghost"]:focus, QToolButton[role="ghost"]:focus {{ border: 2px solid {fo}; }}
QToolButton[role="ghost"]::menu-indicator, QPushButton[role="ghost"]::menu-indicator {{
    image: none; width: 0px;
}}
QPushButton[role="link"] {{
    background: transparent; border: 1px solid transparent; color: {mu};
    text-decoration: underline; padding: {px(3)} {px(4)}; min-height: 0px;
}}
QPushButton[role="link"]:hover {{ color: {ac}; }}
QPushButton[role="link"]:focus {{ border: 2px solid {fo}; }}
QPushButton[role="chip"] {{
    background: {sa}; border: 1px solid {sa}; border-radius: {chip_radius};
    padding: {px(5)} {px(14)}; min-height: 0px; color: {tx};
}}
QPushButton[role="chip"]:hover {{ border: 1px solid {bd}; background: {hover}; }}
QPushButton[role="chip"]:checked {{ background: {ass}; border: 1px solid {ac}; }}
QPushButton[role="chip"]:focus {{ border: 2px solid {fo}; }}
QToolButton[role="round"], QPushButton[role="round"] {{
    background: {ass}; border: 1px solid {ass}; border-radius: {px(22)};
    padding: 0px; min-width: {px(44)}; min-height: {px(44)};
    max-width: {px(44)}; max-height: {px(44)};
}}
QToolButton[role="round"]:hover, QPushButton[role="round"]:hover {{
    background: {ac}; border: 1px solid {ac};
}}
QToolButton[role="round"]:focus, QPushButton[role="round"]:focus {{ border: 2px solid {fo}; }}

QLineEdit, QComboBox, QSpinBox, QDoubleSpinBox {{
    background: {sf}; color: {tx}; border: 1px solid {bd}; border-radius: {px(9)};
    padding: {px(6)} {px(10)}; selection-background-color: {ac}; selection-color: {at};
}}
QLineEdit:focus, QComboBox:focus {{ border: 2px solid {fo}; }}
QComboBox::drop-down {{ border: none; width: {px(28)}; }}
QComboBox::down-arrow {{ image: url({img["arrow"]}); width: {px(12)}; height: {px(12)}; }}
QComboBox QAbstractItemView {{
    background: {sf}; border: 1px solid {bd}; selection-background-color: {ass};
    selection-color: {tx}; outline: 0px; padding: {px(4)};
}}

QCheckBox {{ spacing: {px(10)}; padding: {px(3)} 0px; }}
QCheckBox::indicator {{
    width: {px(18)}; height: {px(18)}; border-radius: {px(5)};
    border: 2px solid {hex_rgb(mix(c.border, c.muted, 0.45))}; background: {sf};
}}
QCheckBox::indicator:hover, QCheckBox::indicator:focus {{ border: 2px solid {ac}; }}
QCheckBox::indicator:checked {{
    background: {ac}; border: 2px solid {ac}; image: url({img["check"]});
}}
QCheckBox::indicator:checked:focus {{ border: 2px solid {fo}; }}
QCheckBox:focus {{ color: {tx}; }}

QSlider {{ min-height: {handle}px; }}
QSlider::groove:horizontal {{
    height: {groove}px; border-radius: {groove // 2}px; background: {track};
}}
QSlider::sub-page:horizontal {{ background: {ac}; border-radius: {groove // 2}px; }}
QSlider::handle:horizontal {{
    background: {sf}; border: 2px solid {ac}; width: {handle - 4}px;
    margin: -{(handle - groove) // 2}px 0px; border-radius: {handle // 2 - 1}px;
}}
QSlider::handle:horizontal:focus {{ background: {ac}; }}

QScrollArea, QScrollArea > QWidget > QWidget#scrollContents {{
    background: transparent; border: none;
}}
QScrollBar:vertical {{ background: transparent; width: {px(10)}; margin: {px(2)}; }}
QScrollBar::handle:vertical {{ background: {bd}; border-radius: {px(3)}; min-height: {px(30)}; }}
QScrollBar::handle:vertical:hover {{ background: {mu}; }}
QScrollBar::add-line, QScrollBar::sub-line {{ height: 0px; width: 0px; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: transparent; }}

QMenu {{
    background: {sf}; border: 1px solid {bd}; border-radius: {px(10)}; padding: {px(6)};
}}
QMenu::item {{ padding: {px(7)} {px(22)} {px(7)} {px(14)}; border-radius: {px(6)}; }}
QMenu::item:selected {{ background: {ass}; color: {tx}; }}
QMenu::item:disabled {{ color: {hex_rgb(mix(c.muted, c.surface, 0.45))}; background: transparent; }}
QMenu::separator {{ height: 1px; background: {bd}; margin: {px(5)} {px(8)}; }}
"""


_image_dir: QTemporaryDir | None = None


def _theme_images(c: Colors, font: QFont) -> dict[str, str]:
    """Tiny PNGs the stylesheet needs (a combo arrow, a check mark), at 1x and @2x.

    Stylesheets can only take images from files or resources, and a styled combo box or checkbox
    loses its native arrow and mark, so they are drawn here in the theme's own colours.
    """
    global _image_dir
    if _image_dir is None:
        _image_dir = QTemporaryDir()
    folder = Path(_image_dir.path())
    mode = "dark" if c.dark else "light"
    size = max(10, round(12 * spacing_scale(font)))
    paths: dict[str, str] = {}
    for name, colour in (("arrow", c.muted), ("check", c.accent_text)):
        stem = f"{name}-{mode}-{size}-{hex_rgb(colour)[1:]}"
        for ratio, suffix in ((1, ""), (2, "@2x")):
            target = folder / f"{stem}{suffix}.png"
            if target.exists():
                continue
            pm = QPixmap(size * ratio, size * ratio)
            pm.fill(Qt.GlobalColor.transparent)
            p = QPainter(pm)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.scale(ratio * size / 12.0, ratio * size / 12.0)
            pen = QPen(colour, 1.8 if name == "arrow" else 2.0)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            p.setPen(pen)
            if name == "arrow":
                p.drawPolyline([QPointF(2.5, 4.5), QPointF(6, 8), QPointF(9.5, 4.5)])
            else:
                p.drawPolyline([QPointF(2.5, 6.3), QPointF(5, 8.8), QPointF(9.6, 3.4)])
            p.end()
            pm.save(str(target), "PNG")
        paths[name] = (folder / f"{stem}.png").as_posix()
    return paths


def set_role(widget: QWidget, role: str) -> None:
    """Give `widget` one of the looks in ROLES (re-polished, so it works after showing too)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    widget.setProperty(ROLE_PROPERTY, role)
    _repolish(widget)


def set_flag(widget: QWidget, name: str, on: bool) -> None:
    """Set a boolean style property (e.g. a card's `current`) and re-polish so QSS notices."""
    value = "true" if on else "false"
    if widget.property(name) == value:
        return
    widget.setProperty(name, value)
    _repolish(widget)


def _repolish(widget: QWidget) -> None:
    """Stylesheets match properties at polish time; a widget not yet polished needs nothing."""
    if widget.testAttribute(Qt.WidgetAttribute.WA_WState_Polished):
        style = widget.style()
        style.unpolish(widget)
        style.polish(widget)
        widget.update()


def play_icon(color: QColor, size: int = 20) -> QIcon:
    """A soft, rounded play triangle drawn at 1x and 2x, so it stays crisp on HiDPI screens."""
    icon = QIcon()
    for ratio in (1.0, 2.0):
        pm = QPixmap(QSize(round(size * ratio), round(size * ratio)))
        pm.setDevicePixelRatio(ratio)
        pm.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pm)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        r = QRectF(0, 0, size, size).adjusted(size * 0.3, size * 0.22, -size * 0.2, -size * 0.22)
        path = QPainterPath()
        path.moveTo(r.topLeft())
        path.lineTo(QPointF(r.right(), r.center().y()))
        path.lineTo(r.bottomLeft())
        path.closeSubpath()
        painter.drawPath(path)
        painter.end()
        icon.addPixmap(pm)
    return icon


class _ThemeKeeper(QObject):
    """Re-applies the theme when the desktop switches light/dark or changes its font."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self._app = app
        self._busy = False
        hints = app.styleHints()
        if hasattr(hints, "colorSchemeChanged"):
            hints.colorSchemeChanged.connect(self._refresh)
        app.fontChanged.connect(self._refresh)

    def _refresh(self, *_: object) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            apply_theme(self._app, follow=False)  # dark=None: ask `system_is_dark` afresh
        finally:
            self._busy = False


def apply_theme(app: QApplication, dark: bool | None = None, follow: bool = True) -> None:
    """Style the whole application. `dark` None follows the system; `follow` keeps following it.

    Fusion is the base style because it draws consistently from the palette on every desktop, so
    the stylesheet's rounded shapes look the same everywhere instead of fighting a native theme.
    """
    if dark is None:
        dark = system_is_dark(app)
    c = colors(dark)
    fusion = QStyleFactory.create("Fusion")
    if fusion is not None and app.style().name().lower() != "fusion":
        app.setStyle(fusion)
    app.setPalette(make_palette(c))
    app.setStyleSheet(stylesheet(c, app.font()))
    if follow and app.findChild(_ThemeKeeper) is None:
        _ThemeKeeper(app)
    log.debug("theme applied (%s, %.1f pt)", "dark" if dark else "light", app.font().pointSizeF())
