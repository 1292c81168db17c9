"""The codebase's own rules, checked: the literate rhythm of the library notebooks, stored outputs that are current,
lines of at most 120 characters in the library, and no file committed twice."""

import ast
import hashlib
import importlib.util
import json
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARY_NBS = sorted((ROOT / 'nbs').glob('[0-9][0-9]*_*.ipynb'))
MAX_EXPORT_LINES = 40


def _outputs_module():
    spec = importlib.util.spec_from_file_location('ci_outputs', ROOT / '.ci' / 'outputs.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _is_export(src):
    return bool(re.match(r'\s*#\|\s*export', src))


def _imports_only(src):
    body = '\n'.join(line for line in src.splitlines() if not line.startswith('#|'))
    return all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.parse(body).body)


def _is_check(src):
    return not _is_export(src) and bool(re.search(r'\b(assert|test_\w+)\b', src))


def rhythm_problems(path):
    "Export cells over 40 lines, and export cells not followed by a check before the next code cell."
    cells = json.loads(Path(path).read_text())['cells']
    code = [''.join(c['source']) for c in cells if c['cell_type'] == 'code']
    found = []
    for k, src in enumerate(code):
        if not _is_export(src) or _imports_only(src):
            continue
        head = src.splitlines()[1][:60] if len(src.splitlines()) > 1 else ''
        if len(src.splitlines()) > MAX_EXPORT_LINES:
            found.append(f'{len(src.splitlines())} lines: {head}')
        if not _is_check(code[k + 1] if k + 1 < len(code) else ''):
            found.append(f'not followed by its check: {head}')
    return found


@pytest.mark.parametrize('nb', LIBRARY_NBS, ids=lambda p: p.stem)
def test_rhythm(nb):
    assert not rhythm_problems(nb), rhythm_problems(nb)


def test_rhythm_check_catches_a_violation(tmp_path):
    nb = {
        'cells': [
            {'cell_type': 'code', 'source': '#| export\ndef f(): return 1'},
            {'cell_type': 'code', 'source': '#| export\ndef g(): return 2'},
            {'cell_type': 'code', 'source': 'assert g() == 2'},
        ]
    }
    (tmp_path / 'x.ipynb').write_text(json.dumps(nb))
    assert rhythm_problems(tmp_path / 'x.ipynb') == ['not followed by its check: def f(): return 1']


def test_stored_outputs_are_rejected_when_stale(tmp_path):
    out = _outputs_module()
    nb = json.loads((ROOT / 'nbs' / '01_gaussian.ipynb').read_text())
    assert out.problems(ROOT / 'nbs' / '01_gaussian.ipynb') == []
    cell = next(c for c in nb['cells'] if c['cell_type'] == 'code' and 'export' not in ''.join(c['source']))
    cell['source'] = ''.join(cell['source']) + '\n# an edit after the outputs were made'
    (tmp_path / 'nb.ipynb').write_text(json.dumps(nb))
    assert out.problems(tmp_path / 'nb.ipynb') == ['its code changed since its outputs were made']


def test_library_lines_at_most_120_besides_nbdev_all():
    "ruff checks the notebooks at 120; in the generated modules only nbdev's `__all__` may be longer."
    long = []
    for p in (ROOT / 'reparam_nb').glob('*.py'):
        if p.name == '_modidx.py':
            continue
        in_all = False
        for i, line in enumerate(p.read_text().splitlines(), 1):
            in_all = line.startswith('__all__') or (in_all and line.startswith(' '))
            if len(line) > 120 and not in_all:
                long.append(f'{p.name}:{i}')
    assert not long, long


def test_no_file_committed_twice():
    try:
        files = subprocess.run(['git', 'ls-files', '-z'], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip('not a git checkout')
    seen = {}
    for name in filter(None, files.decode().split('\0')):
        p = ROOT / name
        if p.is_file() and p.stat().st_size > 0:
            seen.setdefault(hashlib.sha256(p.read_bytes()).hexdigest(), []).append(name)
    twice = [v for v in seen.values() if len(v) > 1]
    assert not twice, twice
