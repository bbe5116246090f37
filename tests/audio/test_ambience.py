"""Ambience loops: seamless, level-matched, reproducible, true to their descriptions, cached."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from coreg_desktop.audio import ambience
from coreg_desktop.audio.ambience import (
    AMBIENCES,
    GENERATOR_VERSION,
    UnknownAmbience,
    generate_ambience,
    load_ambience,
)
from coreg_desktop.constants import AMBIENCE_IDS, CHANNELS, SAMPLE_RATE

IDS = sorted(AMBIENCES)


@pytest.fixture(scope="module")
def loops() -> dict[str, np.ndarray]:
    """Each loop rendered once for the whole module; generation is the expensive part."""
    return {aid: generate_ambience(aid) for aid in IDS}


def db(x: float) -> float:
    return float(20.0 * np.log10(x))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def seam_step_ratio(x: np.ndarray) -> float:
    """The jump from the last sample back to the first, over the 99.9th percentile of steps."""
    steps = np.abs(np.diff(x, axis=0))
    seam = np.abs(x[0].astype(np.float64) - x[-1])
    return float(np.max(seam / np.percentile(steps, 99.9, axis=0)))


def seam_level_jump_db(x: np.ndarray, window: int = SAMPLE_RATE) -> float:
    """Level difference between the second before the loop point and the second after it."""
    return abs(db(rms(x[-window:])) - db(rms(x[:window])))


def seam_hf_ratio(x: np.ndarray, cutoff_hz: float = 3000.0, window: int = 960) -> float:
    """High-frequency energy of a 20 ms window straddling the loop point, relative to the
    loudest of all the 20 ms windows inside the loop. A click is broadband, so it shows up
    here even under a dark sound."""
    mono = x.mean(axis=1, dtype=np.float64)
    inner = mono[: mono.size // window * window].reshape(-1, window)
    straddle = np.concatenate([mono[-window // 2 :], mono[: window // 2]])[None, :]
    freqs = np.fft.rfftfreq(window, 1.0 / SAMPLE_RATE)

    def hf(blocks: np.ndarray) -> np.ndarray:
        spec = np.abs(np.fft.rfft(blocks * np.hanning(window), axis=1)) ** 2
        return np.asarray(spec[:, freqs > cutoff_hz].sum(axis=1))

    return float(hf(straddle)[0] / hf(inner).max())


def test_catalogue_covers_every_ambience_id_except_none() -> None:
    assert set(AMBIENCES) == set(AMBIENCE_IDS) - {"none"}
    for key, info in AMBIENCES.items():
        assert info.id == key
        assert info.title and info.description
        assert 30.0 <= info.loop_seconds <= 60.0
    assert len({info.seed for info in AMBIENCES.values()}) == len(AMBIENCES)


@pytest.mark.parametrize("bad", ["none", "thunder", "Rain", ""])
def test_unknown_ids_are_rejected_without_touching_the_cache(bad: str, tmp_path: Path) -> None:
    with pytest.raises(UnknownAmbience):
        generate_ambience(bad)
    with pytest.raises(ValueError):  # UnknownAmbience is a ValueError for callers that care less
        load_ambience(bad, tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("aid", IDS)
def test_loop_is_stereo_float32_of_the_advertised_length(
    aid: str, loops: dict[str, np.ndarray]
) -> None:
    x = loops[aid]
    assert x.dtype == np.float32
    assert x.shape == (round(AMBIENCES[aid].loop_seconds * SAMPLE_RATE), CHANNELS)
    assert x.flags.c_contiguous
    assert np.isfinite(x).all()


@pytest.mark.parametrize("aid", IDS)
def test_level_is_matched_with_headroom_and_no_dc(aid: str, loops: dict[str, np.ndarray]) -> None:
    x = loops[aid]
    assert db(rms(x)) == pytest.approx(ambience.TARGET_RMS_DBFS, abs=0.25)
    assert db(float(np.max(np.abs(x)))) < ambience.PEAK_LIMIT_DBFS
    assert np.all(np.abs(x.mean(axis=0, dtype=np.float64)) < 1e-4)
    for ch in range(CHANNELS):  # both channels carry sound, at comparable levels
        assert abs(db(rms(x[:, ch])) - db(rms(x))) < 1.0


@pytest.mark.parametrize("aid", IDS)
def test_loop_point_has_no_click_and_no_level_jump(aid: str, loops: dict[str, np.ndarray]) -> None:
    x = loops[aid]
    assert seam_step_ratio(x) < 1.0
    assert seam_level_jump_db(x) < 1.5
    assert seam_hf_ratio(x) < 1.0


def test_seam_checks_catch_a_broken_loop(loops: dict[str, np.ndarray]) -> None:
    """The seam checks must be able to fail: cut a loop short, or step its level."""
    cut = loops["brown-noise"][: -SAMPLE_RATE // 7]
    assert seam_step_ratio(cut) > 1.0
    assert seam_hf_ratio(loops["soft-pad"][: -SAMPLE_RATE // 7]) > 1.0
    stepped = loops["rain"].copy()
    stepped[: stepped.shape[0] // 2] *= 1.3
    assert seam_level_jump_db(stepped) > 1.5


@pytest.mark.parametrize("aid", IDS)
def test_generation_is_reproducible(aid: str, loops: dict[str, np.ndarray]) -> None:
    assert np.array_equal(generate_ambience(aid), loops[aid])


@pytest.mark.parametrize("aid", ["rain", "ocean", "brown-noise", "soft-pad", "fireplace", "night",
                                 "wind"])
def test_beds_are_wide_stereo(aid: str, loops: dict[str, np.ndarray]) -> None:
    x = loops[aid]
    corr = float(np.corrcoef(x[:, 0], x[:, 1])[0, 1])
    assert 0.1 < corr < 0.8  # neither mono in the middle of the head nor phasey


def power_spectrum(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mono = x.mean(axis=1, dtype=np.float64)
    return np.fft.rfftfreq(mono.size, 1.0 / SAMPLE_RATE), np.abs(np.fft.rfft(mono)) ** 2


def band_power(freqs: np.ndarray, power: np.ndarray, lo: float, hi: float) -> float:
    return float(power[(freqs >= lo) & (freqs < hi)].sum())


@pytest.mark.parametrize("aid", IDS)
def test_nothing_is_hissy(aid: str, loops: dict[str, np.ndarray]) -> None:
    """Calm means dark: above 6 kHz there is almost nothing (< -30 dB of the total)."""
    freqs, power = power_spectrum(loops[aid])
    assert band_power(freqs, power, 6000.0, 24001.0) < 1e-3 * power.sum()


def test_rain_is_broadband_but_darkened(loops: dict[str, np.ndarray]) -> None:
    freqs, power = power_spectrum(loops["rain"])
    total = power.sum()
    assert band_power(freqs, power, 500.0, 3000.0) > 0.2 * total  # the patter and hush band
    centroid = float((freqs * power).sum() / total)
    assert 200.0 < centroid < 1500.0


def test_rain_has_sparse_drops(loops: dict[str, np.ndarray]) -> None:
    """Drops are short blips in the 0.7-3 kHz band: its 5 ms energy has rare, clear peaks."""
    mono = loops["rain"].mean(axis=1, dtype=np.float64)
    freqs = np.fft.rfftfreq(mono.size, 1.0 / SAMPLE_RATE)
    spec = np.fft.rfft(mono)
    spec[(freqs < 700.0) | (freqs > 3000.0)] = 0.0
    band = np.fft.irfft(spec, n=mono.size)
    energy = np.square(band[: band.size // 240 * 240]).reshape(-1, 240).mean(axis=1)
    loud = energy > 4.0 * np.median(energy)
    onsets = int(np.count_nonzero(loud[1:] & ~loud[:-1]))
    seconds = mono.size / SAMPLE_RATE
    assert 1.0 * seconds < onsets < 20.0 * seconds


def test_ocean_swells_every_eight_to_twelve_seconds(loops: dict[str, np.ndarray]) -> None:
    x = loops["ocean"]
    hop = SAMPLE_RATE // 10
    level = np.sqrt(np.square(x[: x.shape[0] // hop * hop], dtype=np.float64).reshape(-1, hop * 2))
    level = level.mean(axis=1)
    assert db(level.max()) - db(level.min()) > 6.0  # the waves are audible as waves
    centred = level - level.mean()
    ac = np.array([np.dot(centred, np.roll(centred, lag)) for lag in range(level.size // 2)])
    search = slice(40, 160)  # 4-16 s, at 10 envelope points per second
    period_s = (search.start + int(np.argmax(ac[search]))) / 10.0
    assert 8.0 <= period_s <= 12.0
    assert ac[search].max() > 0.3 * ac[0]  # clearly periodic, not random gusts


def test_ocean_moves_between_left_and_right(loops: dict[str, np.ndarray]) -> None:
    x = loops["ocean"].astype(np.float64)
    second = SAMPLE_RATE
    blocks = x[: x.shape[0] // second * second].reshape(-1, second, CHANNELS)
    balance = 10 * np.log10(np.square(blocks[:, :, 1]).mean(1) / np.square(blocks[:, :, 0]).mean(1))
    assert balance.max() > 1.0 and balance.min() < -1.0


def test_brown_noise_is_deep_and_high_passed(loops: dict[str, np.ndarray]) -> None:
    freqs, power = power_spectrum(loops["brown-noise"])
    # Averaged into 5 Hz bands, the densest band sits just above the ~30 Hz high-pass: a brown
    # spectrum without it would peak in the lowest band instead.
    edges = np.arange(0.0, 400.0, 5.0)
    bands = np.array([band_power(freqs, power, lo, lo + 5.0) for lo in edges])
    assert 20.0 <= edges[int(np.argmax(bands))] <= 60.0
    assert band_power(freqs, power, 0.0, 15.0) < 0.02 * power.sum()
    # Brown noise falls 6 dB per octave: two octaves, 200 Hz → 800 Hz, is about 12 dB.
    density_200 = band_power(freqs, power, 180.0, 220.0)
    density_800 = band_power(freqs, power, 720.0, 880.0) / 4.0
    assert 12.0 - 3.0 < 10 * np.log10(density_200 / density_800) < 12.0 + 3.0


def test_soft_pad_is_periodic_and_consonant(loops: dict[str, np.ndarray]) -> None:
    """Every partial completes whole cycles in the loop, so the loop's own spectrum is a few
    hundred clean lines; the strong ones all belong to D major."""
    x = loops["soft-pad"]
    freqs, power = power_spectrum(x)
    top = np.argsort(power)[::-1]
    assert power[top[:400]].sum() > 0.999 * power.sum()
    strong = freqs[top[: np.count_nonzero(power > power.max() * 1e-3)]]
    semitones = 12.0 * np.log2(strong / 440.0)
    d_major = {5, 7, 9, 10, 0, 2, 4}  # D E F# G A B C#, as semitones above A
    for semi in semitones:
        nearest = round(semi)
        assert abs(semi - nearest) < 0.25  # within 25 cents of a tempered note
        assert nearest % 12 in d_major
    assert freqs[top[0]] == pytest.approx(73.42, abs=0.5)  # the low D carries the chord


def test_heartbeat_is_exactly_sixty_calm_beats(loops: dict[str, np.ndarray]) -> None:
    x = loops["heartbeat"]
    assert AMBIENCES["heartbeat"].loop_seconds == 60.0
    mono = x.mean(axis=1, dtype=np.float64)
    # Envelope: RMS over 40 ms (two cycles of a 50 Hz thump), every 5 ms.
    hop, span = SAMPLE_RATE // 200, SAMPLE_RATE // 25
    energy = np.concatenate([[0.0], np.cumsum(np.square(mono))])
    starts = np.arange(0, mono.size - span, hop)
    env = np.sqrt((energy[starts + span] - energy[starts]) / span)
    # The "lub" is the louder of the pair: count its onsets and their spacing.
    above = env > 0.75 * env.max()
    crossings = np.flatnonzero(above[1:] & ~above[:-1]) + 1
    # The thump's own ripple can re-cross the threshold; a heart cannot beat twice in 0.5 s.
    onsets = crossings[np.diff(crossings, prepend=-1000) > 100]
    assert onsets.size == 60
    assert np.all(np.abs(np.diff(onsets) - 200) <= 2)  # one per second, ±10 ms
    # Between beats only a very quiet bed remains (> 20 dB down), and it is never silent.
    quiet = np.percentile(env, 10)
    assert 0.0 < quiet < env.max() / 10.0
    freqs, power = power_spectrum(x)
    centroid = float((freqs * power).sum() / power.sum())
    assert centroid < 150.0  # soft, low thumps


def test_load_ambience_caches_on_disk_and_reads_the_cache_back(tmp_path: Path) -> None:
    first = load_ambience("brown-noise", tmp_path)
    files = [p for p in tmp_path.iterdir()]
    assert [p.name for p in files] == [f"brown-noise-v{GENERATOR_VERSION}-{SAMPLE_RATE}.npy"]
    assert np.array_equal(np.load(files[0]), first)
    assert np.array_equal(first, generate_ambience("brown-noise"))
    # Prove the second call reads the file: plant a different, valid loop there.
    planted = np.full_like(first, 0.01)
    np.save(files[0], planted)
    again = load_ambience("brown-noise", tmp_path)
    assert np.array_equal(again, planted)
    assert again.dtype == np.float32 and again.flags.c_contiguous


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b"not a numpy file"),
        lambda p: p.write_bytes(p.read_bytes()[:1000]),  # truncated by a crash
        lambda p: np.save(p, np.zeros((100, 2), dtype=np.float32)),  # wrong length
        lambda p: np.save(p, np.zeros((1_440_000, 2), dtype=np.float64)),  # wrong dtype
    ],
)
def test_damaged_cache_is_regenerated(tmp_path: Path, damage: Callable[[Path], object]) -> None:
    expected = load_ambience("brown-noise", tmp_path)
    path = next(tmp_path.iterdir())
    damage(path)
    assert np.array_equal(load_ambience("brown-noise", tmp_path), expected)
    assert np.array_equal(np.load(path), expected)  # and the cache is healed


def test_generator_change_regenerates_and_removes_stale_files(tmp_path: Path) -> None:
    stale = tmp_path / f"brown-noise-v{GENERATOR_VERSION - 1}-{SAMPLE_RATE}.npy"
    np.save(stale, np.zeros((10, 2), dtype=np.float32))
    other = tmp_path / f"rain-v{GENERATOR_VERSION - 1}-{SAMPLE_RATE}.npy"
    np.save(other, np.zeros((10, 2), dtype=np.float32))
    loop = load_ambience("brown-noise", tmp_path)
    assert loop.shape[0] == 30 * SAMPLE_RATE
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([f"brown-noise-v{GENERATOR_VERSION}-{SAMPLE_RATE}.npy", other.name])


def test_default_cache_dir_follows_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    load_ambience("brown-noise")
    cached = list((tmp_path / "coreg-desktop" / "ambience").iterdir())
    assert [p.name for p in cached] == [f"brown-noise-v{GENERATOR_VERSION}-{SAMPLE_RATE}.npy"]


def test_unwritable_cache_still_returns_the_loop(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    loop = load_ambience("brown-noise", blocker / "ambience")
    assert np.array_equal(loop, generate_ambience("brown-noise"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def band_onsets(x: np.ndarray, lo: float, hi: float, over_median: float = 4.0) -> int:
    """How many times the 5 ms energy in a band rises clearly above its usual level."""
    mono = x.mean(axis=1, dtype=np.float64)
    freqs = np.fft.rfftfreq(mono.size, 1.0 / SAMPLE_RATE)
    spec = np.fft.rfft(mono)
    spec[(freqs < lo) | (freqs > hi)] = 0.0
    band = np.fft.irfft(spec, n=mono.size)
    energy = np.square(band[: band.size // 240 * 240]).reshape(-1, 240).mean(axis=1)
    loud = energy > over_median * np.median(energy)
    return int(np.count_nonzero(loud[1:] & ~loud[:-1]))


def test_the_fire_is_a_warm_roar_with_sparse_crackles(loops: dict[str, np.ndarray]) -> None:
    x = loops["fireplace"]
    freqs, power = power_spectrum(x)
    assert band_power(freqs, power, 0.0, 500.0) > 0.8 * power.sum()  # warm: mostly the roar
    seconds = x.shape[0] / SAMPLE_RATE
    assert 1.0 * seconds < band_onsets(x, 1000.0, 3500.0, 8.0) < 25.0 * seconds


def test_the_night_has_crickets_chirping_steadily(loops: dict[str, np.ndarray]) -> None:
    x = loops["night"]
    freqs, power = power_spectrum(x)
    crickets = band_power(freqs, power, 4000.0, 5000.0)
    assert 0.02 * power.sum() < crickets < 0.6 * power.sum()  # heard, not piercing
    seconds = x.shape[0] / SAMPLE_RATE
    assert 2.0 * seconds < band_onsets(x, 4000.0, 5000.0) < 40.0 * seconds


def test_the_wind_gusts(loops: dict[str, np.ndarray]) -> None:
    x = loops["wind"].astype(np.float64)
    second = SAMPLE_RATE
    level = np.sqrt(np.square(x[: x.shape[0] // second * second]).reshape(-1, second * 2)
                    .mean(axis=1))
    level_db = 20.0 * np.log10(level)
    assert level_db.max() - level_db.min() > 6.0  # gusts, not a steady hiss
    step = np.abs(np.diff(level_db))  # each as a swell over seconds, never a jump
    assert float(step.max()) < 6.0
