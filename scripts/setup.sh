#!/usr/bin/env bash
# femiec set-up: system stack (DOLFINx >= 0.9, PETSc, MPI, gmsh, ADIOS2, ParaView) + project venv.
#
# Idempotent: every step checks first and skips what is already there, so a second run takes seconds.
#   - Debian 13+ / Ubuntu whose archive has DOLFINx >= 0.9: installs from the default archive.
#   - Debian 12 (bookworm): adds Debian 13 "trixie" as an apt source pinned at priority 100 and installs
#     the stack from it with `-t trixie`, which upgrades the core packages it depends on to trixie
#     (python3 3.11 -> 3.13, libc6, libstdc++6, openssl, systemd, apt, ...: docs/install.md).
# Then makes `.venv` with the system Python that sees DOLFINx (--system-site-packages) and installs
# femiec into it in editable mode.
#
# Environment: FEMIEC_VENV (default .venv), FEMIEC_SKIP_APT=1 (never touch apt; only make the venv).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
venv=${FEMIEC_VENV:-$here/.venv}
# The interpreter that the Debian packages install DOLFINx for (not a pyenv/conda python on PATH).
syspy=/usr/bin/python3

packages=(
  python3-dolfinx-real python3-dolfinx-mpc python3-gmsh python3-meshio python3-pyvista
  python3-adios2 python3-tifffile python3-skimage python3-pydantic python3-rich python3-pytest
  python3-hypothesis python3-venv python3-pip python3-setuptools python3-scipy python3-matplotlib python3-psutil
  python3-h5py
  paraview python3-paraview openmpi-bin
  # C compiler: DOLFINx's form compiler (FFCx) and femiec's voxel kernels (femiec/homogenization/kernels.py)
  # compile C on first use
  gcc
  # optimized BLAS/LAPACK for MUMPS and NumPy (without it Debian falls back to the reference BLAS, with
  # which a MUMPS factorization of the electrode Jacobian is ~15x slower); serial: one thread per MPI rank
  libopenblas0-serial
)

log() { printf '[setup] %s\n' "$*"; }

have_stack() {
  # True when a C compiler is there, the system Python imports every module femiec needs, DOLFINx is
  # >= 0.9 and (on Debian or Ubuntu) the optimized BLAS package is installed.
  [ -x "$syspy" ] || return 1
  command -v "${CC:-cc}" >/dev/null || command -v gcc >/dev/null || return 1
  if command -v dpkg-query >/dev/null; then
    dpkg-query -W -f='${Status}' libopenblas0-serial 2>/dev/null | grep -q "ok installed" || return 1
  fi
  "$syspy" - <<'PY' 2>/dev/null
import sys
import dolfinx, dolfinx_mpc, gmsh, adios2, tifffile, skimage, pydantic, rich, pytest, scipy, psutil, h5py  # noqa
import paraview.simple  # noqa
major, minor = (int(p) for p in dolfinx.__version__.split(".")[:2])
sys.exit(0 if (major, minor) >= (0, 9) else 1)
PY
}

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then echo sudo; else
      log "error: installing system packages needs root (run as root or install sudo)"; exit 1; fi
  fi
}

install_stack() {
  local SUDO; SUDO=$(need_root)
  . /etc/os-release
  local target=()
  if [ "${ID:-}" = debian ] && [ "${VERSION_ID:-0}" = 12 ]; then
    log "Debian 12: adding Debian 13 (trixie) as a pinned apt source (priority 100)"
    if [ ! -f /etc/apt/sources.list.d/femiec-trixie.sources ]; then
      $SUDO tee /etc/apt/sources.list.d/femiec-trixie.sources >/dev/null <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
      $SUDO tee /etc/apt/preferences.d/femiec-trixie >/dev/null <<'EOF'
Package: *
Pin: release n=trixie
Pin-Priority: 100
EOF
    fi
    target=(-t trixie)
  fi
  log "apt-get update"
  $SUDO apt-get update -qq
  log "installing ${#packages[@]} packages (with dependencies about 440; ~2 minutes)"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${target[@]}" \
    --no-install-recommends "${packages[@]}" >/dev/null
}

start=$(date +%s)
if have_stack; then
  log "system stack present (DOLFINx >= 0.9, gmsh, ADIOS2, ParaView): skipping apt"
elif [ "${FEMIEC_SKIP_APT:-0}" = 1 ]; then
  log "error: FEMIEC_SKIP_APT=1 but the system Python cannot import DOLFINx >= 0.9 and friends"; exit 1
else
  install_stack
  have_stack || { log "error: stack installed but the imports still fail; see: $syspy -c 'import dolfinx'"; exit 1; }
fi

if [ ! -x "$venv/bin/python" ]; then
  log "creating $venv (system site packages visible)"
  "$syspy" -m venv --system-site-packages "$venv"
fi
if ! "$venv/bin/python" -c 'import femiec' 2>/dev/null \
   || [ "$here/pyproject.toml" -nt "$venv/.femiec-installed" ]; then
  log "installing femiec (editable) into $venv"
  "$venv/bin/python" -m pip install -q --no-build-isolation --no-deps -e "$here"
  touch "$venv/.femiec-installed"
fi
if ! "$venv/bin/python" -c 'import impedance.models.circuits' 2>/dev/null; then
  # impedance.py: equivalent-circuit fits of computed spectra (femiec.studies). It imports pandas without
  # declaring it (altair >= 5 no longer pulls it in), so pandas is named here.
  log "installing impedance.py 1.7.1 and pandas (circuit fits of impedance spectra) into $venv"
  "$venv/bin/python" -m pip install -q "impedance==1.7.1" pandas
  "$venv/bin/python" -c 'import impedance.models.circuits' \
    || { log "error: impedance.py installed but 'import impedance.models.circuits' fails"; exit 1; }
fi
if ! "$venv/bin/python" -c 'import pybamm' 2>/dev/null; then
  # PyBaMM: the DFN half-cell `femiec dfn` runs beside a resolved electrode (femiec[dfn]; its tests skip without it)
  log "installing PyBaMM 26.10.1.1 (femiec dfn) into $venv"
  "$venv/bin/python" -m pip install -q "pybamm==26.10.1.1"
fi
log "ready in $(( $(date +%s) - start )) s: $("$venv/bin/python" -c 'import dolfinx; print("DOLFINx", dolfinx.__version__)')"
