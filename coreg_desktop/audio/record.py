"""Recording a memo from the default input: for taping your person's voice while you are together.

The input stream's callback only copies each block into a buffer allocated up front (the memo
limit's worth), so it never allocates, locks or logs; the level meter and the clock are read
from that buffer by whoever shows them. The finished recording goes through the same cleaning
as an imported memo (`audio/memo.py`), so it ends up at the narration's loudness too.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from coreg_desktop.audio.memo import MAX_SECONDS
from coreg_desktop.constants import SAMPLE_RATE

log = logging.getLogger(__name__)

#: The meter shows the loudness of the last this-long of sound.
METER_S = 0.05
#: A meter at or under this reads as silence (the bar is empty).
METER_FLOOR_DB = -60.0
NO_INPUT = ("No microphone was found on this computer, so a memo cannot be recorded here. "
            "You can import a recording instead.")


class RecordError(Exception):
    """Recording cannot start or went wrong; the message is one plain sentence."""


class MemoRecorder:
    """One recording from the default input device, mono at the mixer rate, at most MAX_SECONDS.

    `start()` opens the stream, `stop()` closes it and returns what was recorded. It stops by
    itself at the limit (the callback raises CallbackStop).
    """

    def __init__(self, max_seconds: float = MAX_SECONDS) -> None:
        self._buffer = np.zeros(int(max_seconds * SAMPLE_RATE), dtype=np.float32)
        self._written = 0
        self._stream: Any = None
        self.overflows = 0
        self.device_name = ""

    @property
    def seconds(self) -> float:
        return self._written / SAMPLE_RATE

    @property
    def full(self) -> bool:
        return self._written >= len(self._buffer)

    @property
    def recording(self) -> bool:
        return self._stream is not None and bool(self._stream.active)

    def level_db(self) -> float:
        """RMS of the last METER_S, in dBFS (METER_FLOOR_DB for silence)."""
        n = int(METER_S * SAMPLE_RATE)
        end = self._written
        tail = self._buffer[max(0, end - n) : end]
        if len(tail) == 0:
            return METER_FLOOR_DB
        rms = float(np.sqrt(np.mean(np.square(tail, dtype=np.float64))))
        return max(METER_FLOOR_DB, 20.0 * np.log10(rms)) if rms > 0 else METER_FLOOR_DB

    def start(self) -> None:
        """Open the default input and start recording; RecordError (one sentence) if it can't."""
        try:
            import sounddevice as sd
        except OSError as exc:  # PortAudio itself is missing
            raise RecordError(f"Sound input is not available ({exc}).") from None
        try:
            info = sd.query_devices(kind="input")
        except (sd.PortAudioError, ValueError):
            raise RecordError(NO_INPUT) from None
        if not info or int(info.get("max_input_channels", 0)) < 1:
            raise RecordError(NO_INPUT)
        self.device_name = str(info.get("name", ""))
        self._written = 0
        try:
            self._stream = sd.InputStream(samplerate=SAMPLE_RATE, channels=1, dtype="float32",
                                          callback=self._callback)
            self._stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            self._stream = None
            raise RecordError(f"The microphone could not be opened ({exc}).") from None
        log.info("Recording a memo from %s", self.device_name)

    def _callback(self, indata: np.ndarray, frames: int, _time: Any, status: Any) -> None:
        if status and status.input_overflow:
            self.overflows += 1
        start = self._written
        room = len(self._buffer) - start
        n = min(frames, room)
        if n > 0:
            self._buffer[start : start + n] = indata[:n, 0]
            self._written = start + n
        if n < frames or self._written >= len(self._buffer):
            import sounddevice as sd

            raise sd.CallbackStop

    def stop(self) -> np.ndarray:
        """Stop and close the stream; the recording so far (a copy)."""
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception as exc:  # a device that vanished mid-recording: keep what we have
                log.warning("Closing the input stream failed: %s", exc)
        return self._buffer[: self._written].copy()
