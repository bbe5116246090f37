"""Numbers that several layers must agree on, kept in one place so they cannot drift apart."""

#: Every mix, clip, ambience loop and output stream runs at this rate. 48 kHz is what desktop
#: sound servers run natively, so no resampling happens after our mixer.
SAMPLE_RATE = 48_000

#: The mixer and output are stereo float32 frames.
CHANNELS = 2

#: Ambience ids that practices may name; "none" means silence under the voice.
AMBIENCE_IDS: tuple[str, ...] = (
    "rain", "ocean", "brown-noise", "soft-pad", "heartbeat", "fireplace", "night", "wind", "none",
)

#: Silence between two spoken sentences at rate 1.0 (scaled by 1/rate). Piper has no such option,
#: and calm comes from pauses more than from slow speech: long enough for a breath to land, short
#: enough that the voice does not feel absent.
SENTENCE_GAP_S = 0.8

#: The tags of the built-in practices: one small vocabulary, so that a person who is not at their
#: best finds one chip for one need ("panic", not also "overwhelm" and "anxious"). Eight name what
#: a practice is for; "quick" is the one about length, and means "five minutes or less", because
#: "I only have a moment" is a need of its own (the tray's reset and the library's first chip).
PRACTICE_TAGS: tuple[str, ...] = (
    "panic", "grounding", "sleep", "connection", "body", "breath", "shutdown", "repair", "quick",
)
#: What "quick" promises: the library lists a practice tagged so as this many minutes or fewer.
QUICK_MAX_MINUTES = 5

#: Placeholders a practice may use in `say` text.
PLACEHOLDERS: tuple[str, ...] = ("name", "safe_person", "relationship")


def seconds_to_frames(seconds: float) -> int:
    """Round once, here, so that timeline, mixer and render agree to the sample."""
    return round(seconds * SAMPLE_RATE)

#: The practice a tray click starts, prepared at start-up so it needs no synthesis.
QUICK_RESET_ID = "quick-reset"

#: `play pacer` / `render pacer`: the breathing pacer, a tool rather than a library practice.
PACER_ID = "pacer"

#: The thread that starts every synthesis child; it lives as long as the app, so quitting
#: does not wait for it to end.
SYNTH_LAUNCHER_THREAD = "coreg-synth-launcher"
#: Each synthesis child's log is read by a thread named this and its pid. It only reads a pipe,
#: so exiting cannot cut it short; it ends when its child does, which may belong to a voice that
#: outlives the app's own (a test's, say), so quitting does not wait for it either.
SYNTH_LOG_THREAD_PREFIX = "coreg-synth-log-"
