#!/usr/bin/env bash
# Build what ships: the wheel and sdist (dist/*.whl, dist/*.tar.gz, with `python -m build`) and
# the one-folder PyInstaller bundle (dist/acs-console/), with its installer, menu entry and
# metainfo beside the executable, packed as dist/acs-console-<version>-<os>-<arch>.tar.gz.
#
#   bash packaging/build.sh            # uses .venv/bin/python; PYTHON=... for another
#
# The Python used needs the project's `packaging` extra: pip install -e '.[packaging]'.
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}

rm -rf dist/acs-console dist/acs-console-*.tar.gz dist/acs_transcription_console-* \
    build/pyinstaller
mkdir -p build

echo "== wheel and sdist"
"$py" -m build --outdir dist . >build/python-build.log 2>&1 || {
    cat build/python-build.log >&2
    exit 1
}
ls dist/acs_transcription_console-*

echo "== bundle"
"$py" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/acs-console.spec
app_id=$("$py" -c "import console; print(console.APP_ID)")
version=$("$py" -c "import console; print(console.__version__)")
cp packaging/install.sh "packaging/$app_id.desktop" "packaging/$app_id.metainfo.xml" \
    dist/acs-console/
du -sh dist/acs-console
if [ "$(uname -s)" = Linux ]; then
    archive="dist/acs-console-$version-linux-$(uname -m).tar.gz"
    tar -C dist -czf "$archive" acs-console
    du -h "$archive"
fi
