"""The experiment notebooks under papermill: bad parameters fail fast with a clear message; runs resume."""

import json
import os
import time
from pathlib import Path

import papermill as pm
import pytest

from reparam_nb.runs import EXPERIMENTS

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


def test_adding_an_experiment_touches_three_files(tmp_path):
    """A new experiment is its notebook (its parameters' declarations in a cell tagged `spec`), its preset and its
    reference values: three files, and no edit anywhere else. Here they are added to a copy of the repository (its
    tracked files but the committed results), whose package the command then imports: it finds the new notebook in
    `nbs/experiments/`, checks, runs and reports it like the others, and refuses a preset the experiment lacks."""
    import shutil
    import subprocess
    import sys

    import nbformat

    repo = tmp_path / 'repo'
    tracked = subprocess.run(['git', 'ls-files'], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in tracked:
        if not name.startswith('results/') and (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / name, repo / name)
    cells = [
        nbformat.v4.new_code_cell("x = 1.0  # the input\ndevice = 'auto'\noutput_dir = None\nresume = True"),
        nbformat.v4.new_code_cell(
            'from reparam_nb.training import start\nfrom reparam_nb.results import reference_rows, write_outputs'
        ),
        nbformat.v4.new_code_cell('from reparam_nb.experiment import Real\n\nSPEC = dict(x=Real(0))'),
        nbformat.v4.new_code_cell(
            "PARAMS, dev, out = start('toy', globals())\n"
            "rows = reference_rows('toy', 'double', {'x': 2 * x}, 'twice x', key='name')\n"
            "write_outputs(out, 'Toy', PARAMS, dev, {}, [], f'2x = {2 * x}.', rows)"
        ),
    ]
    cells[0].metadata.tags, cells[2].metadata.tags = ['parameters'], ['spec']
    nb = nbformat.v4.new_notebook(
        cells=cells, metadata={'kernelspec': {'name': 'python3', 'display_name': 'python3', 'language': 'python'}}
    )
    nbformat.write(nb, repo / 'nbs' / 'experiments' / 'toy.ipynb')  # file 1: the notebook, with its declarations
    (repo / 'configs' / 'toy_medium.yaml').write_text('x: 2.0\n')  # file 2: its preset
    ref = dict(
        experiment='toy', quantity='double', name='x', value=4.0, kind='exact', source='arithmetic', protocol='x=2'
    )
    with open(repo / 'configs' / 'paper_values.jsonl', 'a') as f:  # file 3: its reference value
        f.write(json.dumps(ref) + '\n')
    env = {k: v for k, v in os.environ.items() if k != 'REPARAM_NB_EXPERIMENTS'}
    env['PYTHONPATH'] = str(repo)  # the copy's package, and through it the copy's nbs/experiments and configs
    code = 'import sys; from reparam_nb.reproduce import main; sys.exit(main(sys.argv[1:]))'

    def command(*args):
        return subprocess.run(
            [sys.executable, '-c', code, *args], env=env, capture_output=True, text=True, cwd=tmp_path
        )

    bad = command('toy', '-p', 'x=-1', '--out', str(tmp_path / 'bad'))
    assert bad.returncode == 2 and 'x=-1: a number in [0, inf]' in bad.stderr, bad.stderr
    missing = command('toy', '--preset', 'paper', '--out', str(tmp_path / 'paper'))
    assert missing.returncode == 2 and 'no paper preset for toy (toy_paper.yaml is missing)' in missing.stderr
    done = command('toy', '--preset', 'medium', '--out', str(tmp_path / 'out'), '--no-progress')
    assert done.returncode == 0, done.stdout + done.stderr
    report = (tmp_path / 'out' / 'report.md').read_text()
    assert '## toy' in report and '| double | x | 4 | 4 |' in report, report
