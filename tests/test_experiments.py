"""The experiment notebooks under papermill: bad parameters fail fast with a clear message; runs resume."""

import json
import os
import time
from pathlib import Path

import papermill as pm
import pytest

from reparam_nb.reproduce import EXPERIMENTS

ROOT = Path(__file__).resolve().parents[1]
SBN = ROOT / 'nbs' / 'experiments' / 'sbn.ipynb'
TINY = dict(iterations=4, eval_every=2, variance_every=2, variance_batches=3, adapt_steps=1)
TINY.update(
    estimators='lr,discrete_reparam', eval_examples=20, eval_samples=5, test_examples=20, test_samples=5, batch_size=10
)


def run(nb, out, **params):
    os.environ.setdefault('MPLBACKEND', 'Agg')
    return pm.execute_notebook(str(nb), str(out), parameters=params, progress_bar=False, cwd=str(nb.parent))


def text(nb):
    return '\n'.join(
        o.get('text', '') for c in nb['cells'] for o in c.get('outputs', []) if o.get('output_type') == 'stream'
    )


def test_sbn_bad_parameters_fail_fast(tmp_path):
    t = time.time()
    with pytest.raises(pm.PapermillExecutionError) as e:
        run(
            SBN,
            tmp_path / 'out.ipynb',
            model='deeep',
            estimators='lr,ram',
            iterations=-1,
            output_dir=str(tmp_path / 'o'),
        )
    msg = str(e.value)
    for part in [
        "model='deeep': allowed linear, deep, nonlinear",
        "not allowed: ['ram']",
        'iterations=-1: an integer >= 0',
    ]:
        assert part in msg, msg
    assert not (tmp_path / 'o').exists()  # nothing written before validation
    assert time.time() - t < 60


def bad_parameters(name):
    """Bad values derived from an experiment's declared domains (SPECS): the first choice parameter gets a value no
    choice allows, the first integer parameter one below its bound. A new experiment is covered with no edit here."""
    from reparam_nb.experiment import Choice, Int, SPECS

    spec = SPECS[name]
    choice = next(k for k, d in spec.items() if isinstance(d, Choice))
    integer = next(k for k, d in spec.items() if isinstance(d, Int))
    params = {choice: '__bad__', integer: spec[integer].lo - 1}
    return params, [f"{choice}='__bad__'", f'{integer}={spec[integer].lo - 1}']


@pytest.mark.parametrize('name', EXPERIMENTS)
def test_bad_parameters_fail_fast(tmp_path, name):
    params, parts = bad_parameters(name)
    with pytest.raises(pm.PapermillExecutionError) as e:
        run(SBN.parent / f'{name}.ipynb', tmp_path / 'out.ipynb', output_dir=str(tmp_path / 'o'), **params)
    for part in parts:
        assert part in str(e.value), str(e.value)
    assert not (tmp_path / 'o').exists()


def test_sbn_writes_outputs_and_resumes(tmp_path):
    out = tmp_path / 'run'
    run(SBN, tmp_path / 'a.ipynb', output_dir=str(out), **TINY)
    first = json.loads((out / 'metrics.json').read_text())
    assert {'metrics.json', 'curves.png', 'results.md'} <= {p.name for p in out.iterdir()}
    assert set(first['records']) == {'lr', 'discrete_reparam'} and first['params']['iterations'] == 4
    # an interruption after lr finished: discrete_reparam's record is lost, its checkpoint remains
    (out / 'estimators' / 'discrete_reparam.json').unlink()
    log = text(run(SBN, tmp_path / 'b.ipynb', output_dir=str(out), **TINY))
    assert 'lr: finished earlier, reused' in log and 'discrete_reparam: resuming from its checkpoint' in log, log
    second = json.loads((out / 'metrics.json').read_text())
    assert second['records']['lr'] == first['records']['lr']
    # different parameters never reuse old work
    log = text(run(SBN, tmp_path / 'c.ipynb', output_dir=str(out), **{**TINY, 'seed': 1}))
    assert 'reused' not in log and 'resuming' not in log, log
