"""Library notebooks (nbs/00-12, 02a) are committed executed, with their outputs, so that a reader on GitHub or the docs
site sees the tables, figures and check results without running anything.

    python .ci/outputs.py               execute every library notebook and store its outputs and its code's hash
    python .ci/outputs.py nbs/02*.ipynb only these
    python .ci/outputs.py --check       exit 1 when a notebook's code changed since its outputs were made

The hash (sha256 of the code cells' sources) lives in the notebook's metadata under `reparam_nb.code_sha256`
(settings.ini's `allowed_metadata_keys` keeps it through nbdev_clean). `--check` also refuses outputs that carry a
machine path, and notebooks without any output.
"""

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KEY = 'reparam_nb'
MACHINE_PATH = re.compile(r'(/home/|/tmp/|/work/|/Users/|[A-Z]:\\\\|site-packages)')


def library_notebooks():
    return sorted((ROOT / 'nbs').glob('[0-9][0-9]*_*.ipynb'))


def code_hash(nb: dict) -> str:
    "sha256 of the code cells' sources, in order: what the stored outputs were made from."
    code = [''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'code']
    return hashlib.sha256('\0'.join(code).encode()).hexdigest()


def output_text(nb: dict) -> str:
    parts = []
    for c in nb['cells']:
        for o in c.get('outputs', []):
            parts.append(''.join(o.get('text', '')))
            for k, v in o.get('data', {}).items():
                if k.startswith('text/'):
                    parts.append(''.join(v))
            parts += o.get('traceback', [])
    return '\n'.join(parts)


def problems(path: Path) -> list:
    "Why the stored outputs of `path` are not current (empty when they are)."
    nb = json.loads(path.read_text())
    found = []
    if nb.get('metadata', {}).get(KEY, {}).get('code_sha256') != code_hash(nb):
        found.append('its code changed since its outputs were made')
    if not any(c.get('outputs') for c in nb['cells'] if c['cell_type'] == 'code'):
        found.append('it has no outputs')
    if m := MACHINE_PATH.search(output_text(nb)):
        found.append(f'an output carries a machine path ({m.group(0)!r})')
    if any(o.get('output_type') == 'error' for c in nb['cells'] for o in c.get('outputs', [])):
        found.append('an output is an error')
    return found


def scrub(nb):
    "Temporary directories and this checkout's path in text outputs become `$TMPDIR/...` and `.`: stable and portable."
    tmp = re.escape(tempfile.gettempdir())
    for c in (c for c in nb['cells'] if c['cell_type'] == 'code'):
        # third-party deprecation noise on stderr (a library's warning, with its install path) is not an output
        c['outputs'] = [
            o
            for o in c.get('outputs', [])
            if not (o.get('name') == 'stderr' and 'site-packages' in ''.join(o.get('text', '')))
        ]
        for o in c.get('outputs', []):
            for field in [o] + [o.get('data', {})]:
                for k in [k for k in field if k == 'text' or k.startswith('text/')]:
                    text = ''.join(field[k]) if isinstance(field[k], list) else field[k]
                    text = re.sub(tmp + r'/[\w.-]+', '$TMPDIR/...', text).replace(str(ROOT), '.')
                    # a run's wall seconds in reparam_nb_reproduce's progress lines change from run to run
                    text = re.sub(r'(?m)^((?:finished|failed) +\S+) \(\d+ s\)', r'\1 (N s)', text)
                    field[k] = text


def execute(path: Path):
    "Run the notebook in-process (execnb, as nbdev_test does) from nbs/, store outputs and hash, then nbdev_clean."
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell

    nb = read_nb(path)
    for c in nb.cells:  # execnb keeps a cell's old outputs when it prints nothing now: start from none
        if c.cell_type == 'code':
            c.outputs = []
    cwd = os.getcwd()
    os.chdir(path.parent)
    try:
        CaptureShell(mpl_format='png').run_all(nb, exc_stop=True)
    finally:
        os.chdir(cwd)
    scrub(nb)
    nb.metadata[KEY] = {'code_sha256': code_hash(json.loads(json.dumps(nb)))}
    write_nb(nb, path)
    subprocess.run(['nbdev_clean', '--fname', str(path)], check=True, cwd=ROOT)


def main(argv):
    if argv[:1] == ['--check']:
        bad = {p: problems(p) for p in library_notebooks()}
        bad = {p: v for p, v in bad.items() if v}
        for p, v in bad.items():
            print(f'{p.relative_to(ROOT)}: {"; ".join(v)}')
        if bad:
            print('Stored outputs are stale: run python .ci/outputs.py on these notebooks, then commit.')
        return 1 if bad else 0
    os.environ.setdefault('MPLBACKEND', 'Agg')
    for p in [Path(a).resolve() for a in argv] or library_notebooks():
        print(f'executing {p.relative_to(ROOT)}', flush=True)
        execute(p)
        if v := problems(p):
            print(f'{p.relative_to(ROOT)}: {"; ".join(v)}')
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
