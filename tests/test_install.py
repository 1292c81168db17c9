"""A non-editable install carries everything the package reads at run time.

Builds the wheel from this checkout, installs it into a scratch directory, and uses it from a directory outside
the source tree, where only the installed copy can be imported.
"""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from reparam_nb.data import EMBEDDED_SHA256

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_is_self_contained(tmp_path):
    dist, site, work = tmp_path / 'dist', tmp_path / 'site', tmp_path / 'work'
    work.mkdir()
    pip = [sys.executable, '-m', 'pip', '-q', '--disable-pip-version-check']
    subprocess.run(
        pip + ['wheel', '--no-deps', '--no-build-isolation', '-w', str(dist), str(ROOT)], check=True, cwd=tmp_path
    )
    (whl,) = dist.glob('reparam_nb-*.whl')
    names = set(zipfile.ZipFile(whl).namelist())
    for n in EMBEDDED_SHA256:
        assert f'reparam_nb/assets/mnist_subset/{n}' in names, f'{n} missing from {whl.name}'
    expected = {
        f'reparam_nb/experiments/{p.name}'
        for p in [
            *(ROOT / 'nbs' / 'experiments').glob('*.ipynb'),
            *(ROOT / 'configs').glob('*.yaml'),
            *(ROOT / 'configs').glob('*.jsonl'),
        ]
    }
    assert expected <= names, f'experiment notebooks or presets missing from the wheel: {expected - names}'
    # the lean install: the notebook stack only with the `reproduce` extra (issue 35)
    meta = zipfile.ZipFile(whl).read(next(n for n in names if n.endswith('METADATA'))).decode()
    requires = [line.split(':', 1)[1].strip() for line in meta.splitlines() if line.startswith('Requires-Dist:')]
    plain = {r.split(';')[0].split('>')[0].split('<')[0].split('=')[0].strip() for r in requires if ';' not in r}
    assert plain == {'torch', 'numpy', 'tqdm', 'fastcore'}, requires
    for heavy in ('papermill', 'ipykernel', 'matplotlib', 'pandas'):
        assert any(r.startswith(heavy) and 'extra == "reproduce"' in r for r in requires), (heavy, requires)
    subprocess.run(pip + ['install', '--no-deps', '--no-compile', '--target', str(site), str(whl)], check=True)
    code = (
        "import reparam_nb, reparam_nb.data as d, reparam_nb.command as c, sys; "
        f"assert reparam_nb.__file__.startswith({str(site)!r}), reparam_nb.__file__; "
        "x, y = d.load_embedded('trainval'); assert x.shape == (7000, 784); "
        "sys.exit(c.data_command(['--out', 'demo']))"
    )
    env = {**os.environ, 'PYTHONPATH': str(site), 'MPLBACKEND': 'Agg'}
    env.pop('REPARAM_NB_DATA', None)
    r = subprocess.run([sys.executable, '-c', code], cwd=work, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (work / 'demo' / 'digits.png').exists()
    # the estimators' entry point imports none of the notebook stack
    code = (
        "import sys, torch, reparam_nb; from torch.distributions import Bernoulli, Independent; "
        "q = Independent(Bernoulli(logits=torch.zeros(3, 4, requires_grad=True)), 1); "
        "reparam_nb.surrogate('discrete_reparam', lambda z: z.sum(-1), q, 2).loss.backward(); "
        "heavy = [m for m in ('pandas', 'papermill', 'matplotlib', 'ipykernel', 'yaml') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    r = subprocess.run([sys.executable, '-c', code], cwd=work, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    # the main job, from the installed copy only: a tiny vd_mnist run through reparam_nb_reproduce's entry point
    code = (
        "import sys, reparam_nb.reproduce as r; "
        f"assert r.__file__.startswith({str(site)!r}); "
        """sys.exit(r.main(['vd_mnist', '-p', 'methods=[none]', '-p', 'widths=[8]', '-p', 'epochs=1', '-p',
        'train_examples=200',"""
        "'--out', 'rep', '--no-progress']))"
    )
    r = subprocess.run([sys.executable, '-c', code], cwd=work, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (work / 'rep' / 'report.md').exists() and (work / 'rep' / 'vd_mnist' / 'default' / 'metrics.json').exists()
