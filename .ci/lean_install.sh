#!/usr/bin/env bash
# The lean install, checked where a user installs it (issue 35): a fresh virtual environment outside the checkout,
# torch first and alone, then the wheel built from this working tree. It counts the packages the wheel adds, refuses
# the notebook stack among them, runs the library user's notebook (nbs/12_your_model.ipynb, its code cells in order)
# there, and checks that reparam_nb_reproduce exits 2 naming the extra. Needs the package registry; about 3 minutes.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT
mkdir "$T/src" "$T/work"
(cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 tar -cf - | tar -xf - -C "$T/src")
python3 -m venv "$T/venv"
. "$T/venv/bin/activate"
export PIP_DISABLE_PIP_VERSION_CHECK=1
pip install -q torch==2.13.0 2>&1 | sed "/is ignored/d"
with_torch="$(pip list --format=freeze | sort)"
pip wheel -q --no-deps -w "$T/dist" "$T/src" 2>&1 | sed "/is ignored/d"
pip install -q "$T"/dist/reparam_nb-*.whl 2>&1 | sed "/is ignored/d"
added="$(comm -13 <(echo "$with_torch") <(pip list --format=freeze | sort))"
echo "packages beside torch's: $(echo "$added" | wc -l), the package included:"
echo "$added" | sed 's/^/  /'
for heavy in papermill ipykernel matplotlib pandas; do
  if pip show -q "$heavy" 2>/dev/null; then echo "the lean install brought $heavy"; exit 1; fi
done
cd "$T/work"
python - "$ROOT/nbs/12_your_model.ipynb" <<'PY'
import json, sys, time
t = time.time()
cells = [c for c in json.load(open(sys.argv[1]))['cells'] if c['cell_type'] == 'code']
scope = {}
for c in cells:
    exec(compile(''.join(c['source']), sys.argv[1], 'exec'), scope)
assert 'pandas' not in sys.modules and 'matplotlib' not in sys.modules
print(f'notebook 12: {len(cells)} code cells ran in {time.time() - t:.0f} s, checks included')
PY
set +e
msg="$(reparam_nb_reproduce sbn 2>&1)"
rc=$?
set -e
echo "reparam_nb_reproduce without the extra: exit $rc: $msg"
[ "$rc" = 2 ] && [[ "$msg" == *'reparam_nb[reproduce]'* ]]
echo "lean install: ok"
