#!/usr/bin/env bash
# Coreg set-up in one command, for people and for CI.
#
#   bash scripts/bootstrap.sh run  [coreg-desktop args...]   install what the app needs, then launch it
#   bash scripts/bootstrap.sh test [pytest args...]          install everything, then ruff + mypy + pytest
#   bash scripts/bootstrap.sh lint                           install the Python tools, then ruff + mypy
#
# System packages come from apt when we are root or passwordless sudo works. Otherwise the script
# prints the exact apt command and stops, so nobody is surprised by a sudo password prompt or by a
# half-working app that fails later on a missing shared library. `run` checks only what the app
# needs, so a machine without the test tools can still run the app.
#
# Environment knobs:
#   COREG_NO_APT=1       never call apt-get; print what is missing instead (also simulates a non-root user)
#   COREG_PYTHON=PATH    the interpreter to build .venv with (default: first python3 >= 3.10 on PATH)
#   COREG_VENV=DIR       where the venv lives (default: <repo>/.venv)
#   COREG_OWN_DISPLAY=1  `test` starts its own Xvfb + tray host even when DISPLAY is set, so the
#                        e2e tests do not open windows on your desktop
#   COREG_SKIP_LINT=1    `test` skips ruff and mypy (quick local iterations only; CI never sets it)
#
# Exit codes: the command's own (pytest, ruff, mypy, coreg-desktop; pytest's 5, "no tests collected",
# counts as a failure); 2 = usage; 3 = missing system packages that could not be installed;
# 4 = no suitable Python; 1 = any other set-up failure.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${COREG_VENV:-$REPO/.venv}"
STAMP="$VENV/.coreg-stamp"
MIN_PY="3.10"

# What the app needs at run time: PortAudio + the ALSA->PulseAudio bridge for sounddevice, the xcb
# libraries Qt's platform plugin loads, GL/EGL/fontconfig/dbus for Qt itself, a font so Qt does not
# warn, and espeak-ng for pyttsx3's system voices (its driver dlopens libespeak-ng.so.1 from
# libespeak-ng1).
RUNTIME_PKGS=(
    libportaudio2 libasound2-plugins
    libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-xkb1
    libxkbcommon-x11-0 libxcb-cursor0 libxkbcommon0
    libegl1 libgl1 libfontconfig1 libdbus-1-3 fonts-dejavu-core
    espeak-ng libespeak-ng1
)
# What only the test suite needs: a virtual display with a tray host, tools to drive and
# photograph it, a real sound server with tools to record and measure what it plays, the
# launcher-entry validator and a private session bus for the MPRIS tests (CI skips nothing), and
# a real notification server (dunst) with GLib's gdbus for the reminder tests.
TEST_PKGS=(
    xvfb xdotool x11-utils trayer imagemagick
    pulseaudio pulseaudio-utils sox mpv
    desktop-file-utils dbus dbus-bin dunst libglib2.0-bin
)

XVFB_PID=""
TRAYER_PID=""
WORKDIR=""

say() { printf 'bootstrap: %s\n' "$*"; }
err() { printf 'bootstrap: %s\n' "$*" >&2; }

usage() {
    cat >&2 <<'EOF'
usage: bash scripts/bootstrap.sh run  [coreg-desktop args...]
       bash scripts/bootstrap.sh test [pytest args...]
       bash scripts/bootstrap.sh lint
EOF
}

cleanup() {
    # Runs on every exit path, so a failed or interrupted test run never leaves an Xvfb or a tray
    # host behind holding a display number.
    local pid
    for pid in "$TRAYER_PID" "$XVFB_PID"; do
        if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if [[ -n "$WORKDIR" && -d "$WORKDIR" ]]; then
        rm -rf "$WORKDIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# System packages

# Prints the packages of "$@" that dpkg does not report as fully installed.
missing_pkgs() {
    local pkg status
    for pkg in "$@"; do
        status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
        if [[ "$status" != "install ok installed" ]]; then
            printf '%s\n' "$pkg"
        fi
    done
}

# Sets APT_PREFIX to "" (root), "sudo -n" (passwordless sudo) or returns 1 when apt is off limits.
can_apt() {
    APT_PREFIX=""
    if [[ -n "${COREG_NO_APT:-}" && "${COREG_NO_APT}" != "0" ]]; then
        return 1
    fi
    command -v apt-get >/dev/null 2>&1 || return 1
    if [[ "$(id -u)" -eq 0 ]]; then
        return 0
    fi
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        APT_PREFIX="sudo -n"
        return 0
    fi
    return 1
}

# ensure_system_packages APP_VAR TEST_VAR   (names of arrays; TEST_VAR may name an empty one)
#   Installs whatever of both lists is missing when apt is usable. Otherwise prints exactly what is
#   missing and the apt command that installs it, and fails.
ensure_system_packages() {
    local -n app_ref="$1"
    local -n test_ref="$2"
    if ! command -v dpkg-query >/dev/null 2>&1; then
        say "dpkg-query not found: not a Debian/Ubuntu system, so system packages are not checked."
        say "make sure the equivalents of these are installed: ${app_ref[*]} ${test_ref[*]}"
        return 0
    fi
    local -a miss_app miss_test all still
    mapfile -t miss_app < <(missing_pkgs "${app_ref[@]}")
    mapfile -t miss_test < <(missing_pkgs "${test_ref[@]}")
    all=("${miss_app[@]}" "${miss_test[@]}")
    if [[ ${#all[@]} -eq 0 ]]; then
        say "system packages: all present"
        return 0
    fi
    if can_apt; then
        local t0=$SECONDS
        say "installing missing system packages with ${APT_PREFIX:+$APT_PREFIX }apt-get: ${all[*]}"
        # APT_PREFIX is empty or "sudo -n" and must split into words.
        # shellcheck disable=SC2086
        $APT_PREFIX env DEBIAN_FRONTEND=noninteractive \
            apt-get -o DPkg::Lock::Timeout=300 update -qq </dev/null
        # shellcheck disable=SC2086
        $APT_PREFIX env DEBIAN_FRONTEND=noninteractive \
            apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${all[@]}" </dev/null
        mapfile -t still < <(missing_pkgs "${all[@]}")
        if [[ ${#still[@]} -gt 0 ]]; then
            err "apt-get finished but these are still not installed: ${still[*]}"
            return 3
        fi
        say "system packages installed in $((SECONDS - t0))s"
        return 0
    fi
    local why="not root, and passwordless sudo is not available"
    if [[ -n "${COREG_NO_APT:-}" && "${COREG_NO_APT}" != "0" ]]; then
        why="COREG_NO_APT is set"
    elif ! command -v apt-get >/dev/null 2>&1; then
        why="apt-get is not available"
    fi
    err "cannot install system packages: $why."
    if [[ ${#miss_app[@]} -gt 0 ]]; then
        err "missing, needed by the app:   ${miss_app[*]}"
    fi
    if [[ ${#miss_test[@]} -gt 0 ]]; then
        err "missing, needed by the tests: ${miss_test[*]}"
    fi
    err "install them with:"
    err "    sudo apt-get update && sudo apt-get install -y ${all[*]}"
    err "then run this command again."
    return 3
}

# ---------------------------------------------------------------------------------------------
# Python

py_ok() {
    "$1" -c "import sys; sys.exit(0 if sys.version_info >= (${MIN_PY/./, }) else 1)" \
        >/dev/null 2>&1
}

# Sets PYTHON to the first interpreter that is new enough.
find_python() {
    local cand path
    local -a seen=()
    if [[ -n "${COREG_PYTHON:-}" ]]; then
        if py_ok "$COREG_PYTHON"; then
            PYTHON="$COREG_PYTHON"
            return 0
        fi
        err "COREG_PYTHON=$COREG_PYTHON is not a working Python >= $MIN_PY"
        return 4
    fi
    for cand in python3 python3.14 python3.13 python3.12 python3.11 python3.10 python; do
        path="$(command -v "$cand" 2>/dev/null)" || continue
        if py_ok "$path"; then
            PYTHON="$path"
            return 0
        fi
        seen+=("$cand ($("$path" -c 'import platform; print(platform.python_version())' \
            2>/dev/null || echo '?'))")
    done
    err "Coreg needs Python >= $MIN_PY, and none was found on PATH."
    if [[ ${#seen[@]} -gt 0 ]]; then
        err "found only: ${seen[*]}"
    fi
    err "install one (Debian 12 / Ubuntu 22.04 and newer: sudo apt-get install -y python3 python3-venv)"
    err "or point COREG_PYTHON at one, e.g. COREG_PYTHON=/usr/bin/python3.11 bash scripts/bootstrap.sh ..."
    return 4
}

# Prints the Debian package that provides venv/ensurepip for $PYTHON, when that is what is missing.
venv_pkg_needed() {
    if "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
        return 0
    fi
    local ver default_ver
    ver="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    default_ver="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)"
    if [[ "$ver" == "$default_ver" ]]; then
        echo "python3-venv"
    else
        echo "python${ver}-venv"
    fi
}

venv_usable() {
    [[ -x "$VENV/bin/python" ]] && py_ok "$VENV/bin/python" \
        && "$VENV/bin/python" -m pip --version >/dev/null 2>&1
}

ensure_venv() {
    if venv_usable; then
        return 0
    fi
    if [[ -e "$VENV" ]]; then
        say "$VENV is broken or too old; recreating it"
        rm -rf "$VENV"
    fi
    say "creating $VENV with $PYTHON ($("$PYTHON" -c 'import platform; print(platform.python_version())'))"
    "$PYTHON" -m venv "$VENV"
}

# A hash of everything that goes into the installed package, so an unchanged tree skips pip.
source_hash() {
    (
        cd "$REPO"
        local -a inputs=()
        local f
        for f in pyproject.toml README.md MANIFEST.in setup.cfg setup.py coreg_desktop; do
            if [[ -e "$f" ]]; then
                inputs+=("$f")
            fi
        done
        {
            "$VENV/bin/python" -c 'import sys; print(sys.version)'
            find "${inputs[@]}" -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 \
                | LC_ALL=C sort -z | xargs -0 -r sha256sum
        } | sha256sum | cut -d' ' -f1
    )
}

# pip_install EXTRAS   ("" for the app alone, "test" for the app plus the test tools)
pip_install() {
    local extras="$1" hash spec
    hash="$(source_hash)"
    if [[ -f "$STAMP" ]]; then
        local old_hash old_extras
        read -r old_hash old_extras <"$STAMP" || true
        if [[ "$old_hash" == "$hash" && ( -z "$extras" || "${old_extras:-}" == "$extras" ) ]]; then
            say "python packages: up to date (nothing changed since the last install)"
            return 0
        fi
    fi
    rm -f "$STAMP"
    spec="."
    if [[ -n "$extras" ]]; then
        spec=".[$extras]"
    fi
    local t0=$SECONDS
    export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
    if [[ -n "${CI:-}" ]]; then
        export PIP_PROGRESS_BAR=off
    fi
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    # A stale setuptools build/ dir can smuggle deleted modules into the wheel.
    rm -rf "$REPO/build"
    say "pip install \"$spec\" (non-editable)"
    (cd "$REPO" && "$VENV/bin/python" -m pip install --quiet "$spec")
    rm -rf "$REPO/build"
    printf '%s %s\n' "$hash" "${extras:-base}" >"$STAMP"
    say "python packages installed in $((SECONDS - t0))s"
}

setup_python() {
    local extras="$1"
    ensure_venv
    pip_install "$extras"
    export VIRTUAL_ENV="$VENV"
    export PATH="$VENV/bin:$PATH"
}

# ---------------------------------------------------------------------------------------------
# Display

# Starts Xvfb on the first free display number and a tray host on it, and exports DISPLAY.
start_display() {
    WORKDIR="$(mktemp -d "${TMPDIR:-/tmp}/coreg-bootstrap.XXXXXX")"
    local n
    for n in $(seq 90 189); do
        if [[ -e "/tmp/.X${n}-lock" || -e "/tmp/.X11-unix/X${n}" ]]; then
            continue
        fi
        # An X server in another mount namespace (container, private /tmp) leaves no files here
        # but still owns the abstract socket, and clients would reach it instead of ours.
        if grep -q "@/tmp/.X11-unix/X${n}\$" /proc/net/unix 2>/dev/null; then
            continue
        fi
        Xvfb ":$n" -screen 0 1280x800x24 -nolisten tcp >"$WORKDIR/xvfb.log" 2>&1 &
        XVFB_PID=$!
        for _ in $(seq 1 100); do
            if ! kill -0 "$XVFB_PID" 2>/dev/null; then
                break # lost a race for this number, or Xvfb cannot start: try the next one
            fi
            if xdpyinfo -display ":$n" >/dev/null 2>&1; then
                export DISPLAY=":$n"
                break 2
            fi
            sleep 0.1
        done
        if kill -0 "$XVFB_PID" 2>/dev/null; then
            kill "$XVFB_PID" 2>/dev/null || true
        fi
        wait "$XVFB_PID" 2>/dev/null || true
        XVFB_PID=""
    done
    if [[ -z "$XVFB_PID" ]]; then
        err "could not start Xvfb on any display from :90 to :189; its last log:"
        cat "$WORKDIR/xvfb.log" >&2 || true
        return 1
    fi
    trayer --edge top --align right --widthtype request --height 24 \
        >"$WORKDIR/trayer.log" 2>&1 &
    TRAYER_PID=$!
    for _ in $(seq 1 100); do
        if ! kill -0 "$TRAYER_PID" 2>/dev/null; then
            err "trayer exited at start; its log:"
            cat "$WORKDIR/trayer.log" >&2 || true
            return 1
        fi
        if xwininfo -root -tree 2>/dev/null | grep -q '"panel"'; then
            say "virtual display $DISPLAY (Xvfb pid $XVFB_PID) with tray host (trayer pid $TRAYER_PID)"
            return 0
        fi
        sleep 0.1
    done
    err "trayer did not show its panel within 10 s"
    return 1
}

# ---------------------------------------------------------------------------------------------
# Commands

run_lint() {
    local rc=0
    say "ruff check"
    (cd "$REPO" && ruff check .) || rc=$?
    say "mypy"
    (cd "$REPO" && mypy) || { local r=$?; [[ $rc -ne 0 ]] || rc=$r; }
    return "$rc"
}

# Appends to the array named $1 the Debian package that provides venv/ensurepip for $PYTHON, when
# that is all that stands between us and a working .venv.
add_venv_pkg() {
    local -n pkgs_ref="$1"
    local pkg
    if venv_usable; then
        return 0
    fi
    pkg="$(venv_pkg_needed)"
    if [[ -n "$pkg" ]]; then
        pkgs_ref+=("$pkg")
    fi
}

cmd_run() {
    # shellcheck disable=SC2034  # passed by name to add_venv_pkg / ensure_system_packages
    local -a app=("${RUNTIME_PKGS[@]}") none=()
    find_python
    add_venv_pkg app
    ensure_system_packages app none
    setup_python ""
    if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
        say "warning: neither DISPLAY nor WAYLAND_DISPLAY is set; the window may not be able to open"
    fi
    say "launching coreg-desktop $*"
    trap - EXIT INT TERM
    exec "$VENV/bin/coreg-desktop" "$@"
}

cmd_test() {
    # shellcheck disable=SC2034  # passed by name to add_venv_pkg / ensure_system_packages
    local -a app=("${RUNTIME_PKGS[@]}") tests=("${TEST_PKGS[@]}")
    find_python
    add_venv_pkg app
    ensure_system_packages app tests
    setup_python "test"
    if [[ -z "${DISPLAY:-}" || -n "${COREG_OWN_DISPLAY:-}" ]]; then
        start_display
    else
        say "using the existing display $DISPLAY (set COREG_OWN_DISPLAY=1 for a private Xvfb)"
    fi

    local lint_rc=0 rc=0
    if [[ -n "${COREG_SKIP_LINT:-}" ]]; then
        say "COREG_SKIP_LINT is set: skipping ruff and mypy"
    else
        run_lint || lint_rc=$?
    fi
    if [[ $# -eq 0 ]]; then
        run_suite || rc=$?
    else
        say "pytest $*"
        (cd "$REPO" && "$VENV/bin/python" -m pytest "$@") || rc=$?
    fi
    if [[ $rc -eq 5 ]]; then
        err "FAILED: pytest collected no tests (exit 5)"
        return 5
    fi
    if [[ $lint_rc -ne 0 ]]; then
        err "FAILED: ruff/mypy reported findings (exit $lint_rc); pytest exited $rc"
        if [[ $rc -ne 0 ]]; then
            return "$rc"
        fi
        return "$lint_rc"
    fi
    return "$rc"
}

# The whole suite, in two runs. Everything but the e2e tests runs first, spread over one worker
# per core (at most 4), each with an X server of its own (tests/conftest.py); a test file stays on
# one worker, so its models load once. Then the e2e tests run one at a time: they record a real
# sound server and time what they hear, so they get the machine to themselves.
run_suite() {
    local workers rc=0 e2e_rc=0
    workers="$(nproc 2>/dev/null || echo 1)"
    if ((workers > 4)); then
        workers=4
    fi
    if ((workers >= 2)); then
        say "pytest -m 'not e2e' on $workers workers"
        (cd "$REPO" && "$VENV/bin/python" -m pytest -m "not e2e" -n "$workers" --dist loadfile) \
            || rc=$?
    else
        say "pytest -m 'not e2e'"
        (cd "$REPO" && "$VENV/bin/python" -m pytest -m "not e2e") || rc=$?
    fi
    say "pytest -m e2e, one test at a time"
    (cd "$REPO" && "$VENV/bin/python" -m pytest -m e2e) || e2e_rc=$?
    if [[ $rc -ne 0 ]]; then
        return "$rc"
    fi
    return "$e2e_rc"
}

cmd_lint() {
    # shellcheck disable=SC2034  # passed by name to add_venv_pkg / ensure_system_packages
    local -a app=() none=()
    find_python
    add_venv_pkg app
    ensure_system_packages app none
    setup_python "test"
    run_lint
}

main() {
    if [[ $# -lt 1 ]]; then
        usage
        exit 2
    fi
    local cmd="$1"
    shift
    case "$cmd" in
        run) cmd_run "$@" ;;
        test) cmd_test "$@" ;;
        lint) cmd_lint "$@" ;;
        -h | --help | help) usage ;;
        *)
            usage
            exit 2
            ;;
    esac
}

main "$@"
