"""Volume sliders on a perceptual curve.

Loudness is heard roughly logarithmically, so a linear gain slider crams everything audible into
its last third and the bottom half does almost nothing. A cubic curve (as Blanket and GNOME use)
spreads the range evenly under the thumb. Settings store the *gain*, because that is what the
mixer needs and what stays meaningful if the slider's curve ever changes; the slider position is
derived from it.
"""

from __future__ import annotations

import math

#: Slider positions run 0..SLIDER_MAX.
SLIDER_MAX = 100
#: Gain = position ** CURVE_EXPONENT (position normalised to 0..1).
CURVE_EXPONENT = 3.0


def slider_to_gain(v: int) -> float:
    """Mixer gain (0..1) for a slider position (0..100), on the cubic perceptual curve."""
    x = min(max(v, 0), SLIDER_MAX) / SLIDER_MAX
    return x**CURVE_EXPONENT


def gain_to_slider(g: float) -> int:
    """The slider position that shows a stored gain; the inverse of `slider_to_gain`."""
    if not math.isfinite(g) or g <= 0.0:
        return 0
    x = min(g, 1.0) ** (1.0 / CURVE_EXPONENT)
    return round(x * SLIDER_MAX)
