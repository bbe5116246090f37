"""A safe person's photo: checked, turned upright, made small, and stripped of what it carries.

Photos from phones are large, often lie on their side with an EXIF tag saying which way is up,
and carry metadata (where and when it was taken, the phone's serial) that has no business in
Coreg's folder. So the import decodes the picture fully (a damaged file fails here, not later in
the orb), applies the orientation, scales it to at most MAX_SIDE pixels, and writes a fresh JPEG
with no metadata at all.

Pillow does this rather than Qt's QImageReader, because the core imports no Qt: the terminal's
`safe-person add --photo` must work on a machine with no display libraries.
"""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from coreg_desktop import files

log = logging.getLogger(__name__)

MAX_SIDE = 1024
#: Larger files are not photos a person picked for this, and are refused before they are read.
MAX_INPUT_BYTES = 40 * 1024 * 1024
#: Decoding more pixels than this (a 12000 × 8000 panorama, or a decompression bomb) is refused.
MAX_PIXELS = 64_000_000
FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP", "MPO": "JPEG"}
QUALITY = 90
STORED_NAME = "photo.jpg"


class PhotoError(Exception):
    """A photo that cannot be used; the message is one plain line naming the file."""


def import_photo(source: Path, dest: Path) -> tuple[int, int]:
    """Write `source` as a clean JPEG at `dest` (0600, atomically); returns its size in pixels.

    Nothing is written unless every step succeeds.
    """
    try:
        size = files.input_file_size(source)
    except files.InputFileError as exc:
        raise PhotoError(str(exc)) from None
    if size > MAX_INPUT_BYTES:
        raise PhotoError(f"{source}: is {size / 1e6:.0f} MB; a photo can be at most "
                         f"{MAX_INPUT_BYTES // (1024 * 1024)} MB")
    try:
        data = make_jpeg(source.read_bytes())
    except PhotoError as exc:
        raise PhotoError(f"{source}: {exc}") from None
    except OSError as exc:
        raise PhotoError(f"{source}: cannot be read ({exc.strerror or exc})") from None
    try:
        files.atomic_write(dest, data.jpeg, mode=files.PRIVATE_FILE)
    except OSError as exc:
        raise PhotoError(f"{dest}: the photo could not be stored ({exc.strerror or exc})") from None
    return data.size


@dataclass(frozen=True)
class _Jpeg:
    jpeg: bytes
    size: tuple[int, int]


def make_jpeg(raw: bytes) -> _Jpeg:
    """The photo in `raw` upright, at most MAX_SIDE on its longer side, as metadata-free JPEG."""
    kinds = "JPEG, PNG or WebP"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(raw))
            if opened.format not in FORMATS:
                raise PhotoError(f"is a {opened.format or 'kind of'} image; use a {kinds} photo")
            width, height = opened.size
            if width * height > MAX_PIXELS:
                raise PhotoError(f"is {width} × {height} pixels, too large to use; the limit "
                                 f"is {MAX_PIXELS // 1_000_000} million pixels")
            if opened.format == "JPEG":
                opened.draft("RGB", (MAX_SIDE, MAX_SIDE))  # decode at a fraction: much faster
            opened.load()
            image: Image.Image = ImageOps.exif_transpose(opened)
    except PhotoError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        raise PhotoError(f"is not a photo Coreg can read; use a {kinds} file") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PhotoError(f"seems damaged or cut short ({why})") from None
    image = _flatten(image)
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=QUALITY, optimize=True)  # no exif=, no icc: nothing carried
    return _Jpeg(out.getvalue(), image.size)


def _flatten(image: Image.Image) -> Image.Image:
    """RGB, with any transparency laid on a soft grey (JPEG has no alpha)."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        ground = Image.new("RGBA", rgba.size, (128, 128, 128, 255))
        ground.alpha_composite(rgba)
        return ground.convert("RGB")
    return image.convert("RGB")
