"""Fault replays for `reparam_nb_reproduce` (issue 40): each test here failed on the behaviour before the fix.

A toy experiment (three files in a folder that `$REPARAM_NB_EXPERIMENTS` points the package at, beside copies of the
real ones) resumes from a checkpoint, writes the results contract, and fails or diverges when asked; the command runs
it in a subprocess, as a user does. Item numbers are the issue's."""

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
CODE = 'import sys; from reparam_nb.reproduce import main; sys.exit(main(sys.argv[1:]))'
REPORT = 'import sys; from reparam_nb.reproduce import report_main; sys.exit(report_main(sys.argv[1:]))'

TOY_PARAMETERS = """x = 1.0  # the input
label = ''  # a free-form label (long sweep values make long run ids)
fail = False  # raise after the checkpoint
diverge = False  # train on a non-finite loss
device = 'auto'
output_dir = None
resume = True"""
TOY_SPEC = """from reparam_nb.experiment import Domain, Flag, Real

SPEC = dict(x=Real(0), label=Domain(), fail=Flag(), diverge=Flag())"""
TOY_BODY = """import torch
from reparam_nb.training import Diverged, new_record, restore, save_state, start, train_loop
from reparam_nb.results import reference_rows, write_outputs

PARAMS, dev, out = start('toy', globals())
owner = dict(experiment='toy')
state = restore(out / 'checkpoint.pt', PARAMS, resume, dev, {}, owner) or {'calls': 0}
save_state(out / 'checkpoint.pt', PARAMS, {}, owner, calls=state['calls'] + 1)
if fail:
    raise RuntimeError('the toy failed')
if diverge:
    w = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([w], lr=1.0)
    rec = train_loop(new_record(), 3, lambda i: (w.sum() * float('nan'), {}), opt, 1, lambda i: {}, lambda: None)
    raise Diverged(rec['status'])
rows = reference_rows('toy', 'double', {'x': 2 * x}, 'twice x', key='name')
write_outputs(out, 'Toy', PARAMS, dev, {'calls': state['calls'] + 1}, [], f'2x = {2 * x}.', rows)"""


@pytest.fixture(scope='module')
def sources(tmp_path_factory):
    src = tmp_path_factory.mktemp('sources')
    for p in [*(ROOT / 'nbs' / 'experiments').glob('*.ipynb'), *(ROOT / 'configs').glob('*.*')]:
        shutil.copyfile(p, src / p.name)
    cells = [nbformat.v4.new_code_cell(s) for s in (TOY_PARAMETERS, TOY_SPEC, TOY_BODY)]
    cells[0].metadata.tags, cells[1].metadata.tags = ['parameters'], ['spec']
    kernel = {'kernelspec': {'name': 'python3', 'display_name': 'python3', 'language': 'python'}}
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata=kernel), src / 'toy.ipynb')
    ref = dict(experiment='toy', quantity='double', name='x', value=4.0, kind='exact', source='arithmetic', protocol='')
    with open(src / 'paper_values.jsonl', 'a') as f:
        f.write(json.dumps(ref) + '\n')
    return src


def command(sources, *args, code=CODE):
    env = {**os.environ, 'REPARAM_NB_EXPERIMENTS': str(sources), 'MPLBACKEND': 'Agg'}
    return subprocess.run([sys.executable, '-c', code, *args], env=env, capture_output=True, text=True, timeout=300)


def toy(sources, out, *args):
    return command(sources, 'toy', '--out', str(out), '--no-progress', *args)


def record(out, run_id='default'):
    return json.loads((out / 'toy' / run_id / 'run.json').read_text())


def test_1_colliding_sweep_points_get_two_directories(sources, tmp_path):
    params = tmp_path / 'sweep.yaml'
    params.write_text(f'toy:\n  sweep: {{label: [{"y" * 119}], x: [1.0, 2.0]}}\n')  # ids cut at 120 were one
    done = toy(sources, tmp_path / 'out', '--params', str(params))
    assert done.returncode == 0, done.stderr
    dirs = sorted(p.parent.name for p in (tmp_path / 'out' / 'toy').glob('*/run.json'))
    assert len(dirs) == 2 and {record(tmp_path / 'out', d)['params']['x'] for d in dirs} == {1.0, 2.0}
    params.write_text('toy:\n  sweep: {x: [1.0, 1.0]}\n')  # a repeated value: one directory for two runs
    twice = toy(sources, tmp_path / 'twice', '--params', str(params))
    assert twice.returncode == 2 and '2 runs of the plan share this directory' in twice.stderr
    assert not (tmp_path / 'twice').exists()


def test_2_another_configuration_leaves_a_finished_run(sources, tmp_path):
    out = tmp_path / 'out'
    assert toy(sources, out, '-p', 'x=1.0').returncode == 0
    first = (out / 'toy' / 'default' / 'metrics.json').read_text()
    later = toy(sources, out, '-p', 'x=3.0')  # the run id is the sweep point: the same directory
    assert later.returncode == 2 and 'x 1.0 -> 3.0' in later.stderr and '--replace' in later.stderr, later.stderr
    assert (out / 'toy' / 'default' / 'metrics.json').read_text() == first and record(out)['params']['x'] == 1.0
    replaced = toy(sources, out, '-p', 'x=3.0', '--replace')  # asked for: the old run is deleted first
    assert replaced.returncode == 0 and record(out)['params']['x'] == 3.0
    assert json.loads((out / 'toy' / 'default' / 'metrics.json').read_text())['calls'] == 1  # not resumed from x=1


def test_2_a_concurrent_invocation_does_not_run_a_held_run(sources, tmp_path):
    d = tmp_path / 'out' / 'toy' / 'default'
    d.mkdir(parents=True)
    with open(d / '.lock', 'a') as held:  # another invocation is running it
        fcntl.flock(held, fcntl.LOCK_EX)
        busy = toy(sources, tmp_path / 'out')
    assert busy.returncode == 1 and 'busy' in busy.stdout and 'another invocation is running it' in busy.stdout
    assert not (d / 'run.json').exists() and not (d / 'notebook.ipynb').exists()  # it did not touch the run
    assert toy(sources, tmp_path / 'out').returncode == 0  # released (as the kernel does when its holder dies)


def planted_checkpoint(d, marker):
    class Planted:
        def __reduce__(self):
            return (os.system, (f'touch {marker}',))

    d.mkdir(parents=True)
    torch.save(dict(params={'x': 1.0, 'label': '', 'fail': False, 'diverge': False}, x=Planted()), d / 'checkpoint.pt')


def test_3_a_planted_pickle_is_refused_and_never_runs(sources, tmp_path):
    marker = tmp_path / 'ran'
    planted_checkpoint(tmp_path / 'out' / 'toy' / 'default', marker)
    got = toy(sources, tmp_path / 'out')
    assert got.returncode == 1 and not marker.exists()
    assert 'checkpoint.pt is refused' in record(tmp_path / 'out')['error'], record(tmp_path / 'out')


def test_4_a_foreign_checkpoint_is_not_resumed(sources, tmp_path):
    from reparam_nb.training import save_state

    d = tmp_path / 'out' / 'toy' / 'default'
    d.mkdir(parents=True)
    params = {'x': 1.0, 'label': '', 'fail': False, 'diverge': False}
    save_state(d / 'checkpoint.pt', params, {}, dict(experiment='other'), calls=41)  # same parameters, not toy's
    got = toy(sources, tmp_path / 'out')
    assert got.returncode == 1 and "was written for {'experiment': 'other'}" in record(tmp_path / 'out')['error']
    assert not (d / 'metrics.json').exists()


def test_5_a_failed_redo_shows_no_stale_numbers(sources, tmp_path):
    out = tmp_path / 'out'
    assert toy(sources, out).returncode == 0
    assert len(pd.read_csv(out / 'report.csv')) == 1
    failed = toy(sources, out, '-p', 'fail=true', '--replace')
    assert failed.returncode == 1 and record(out)['status'] == 'failed'
    assert len(pd.read_csv(out / 'report.csv')) == 0  # rewritten: no row of the old run
    left = {p.name for p in (out / 'toy' / 'default').iterdir()}
    assert not left & {'metrics.json', 'comparison.csv', 'results.md', 'discussion.md'}, left


def test_6_a_typo_exits_2(sources, tmp_path):
    for text, msg in (('iteratons: 5\n', "unknown key 'iteratons'"), ('sweep: {sed: [0, 1]}\n', "parameter 'sed'")):
        (tmp_path / 'p.yaml').write_text(text)
        got = toy(sources, tmp_path / 'out', '--params', str(tmp_path / 'p.yaml'))
        assert got.returncode == 2 and msg in got.stderr, got.stderr
    assert not (tmp_path / 'out').exists()


def test_7_divergence_is_one_line(sources, tmp_path):
    got = toy(sources, tmp_path / 'out', '-p', 'diverge=true')
    assert got.returncode == 1
    assert record(tmp_path / 'out')['error'] == 'Diverged: diverged at step 0: non-finite loss nan'


def test_7_the_vae_divergence_is_one_line(tmp_path):
    env = {**os.environ, 'MPLBACKEND': 'Agg'}
    args = ['vae', '-p', 'lr=1000', '--out', str(tmp_path), '--no-progress', '--device', 'cpu']
    subprocess.run([sys.executable, '-c', CODE, *args], env=env, capture_output=True, text=True, timeout=300)
    error = json.loads((tmp_path / 'vae' / 'default' / 'run.json').read_text())['error']
    assert error.startswith('Diverged: diverged at step ') and 'non-finite' in error and 'tensor' not in error, error
    assert (tmp_path / 'vae' / 'default' / 'checkpoint.pt').exists()  # what was learned before it is kept


def test_8_one_bad_results_file_blocks_nothing(sources, tmp_path):
    out, params = tmp_path / 'out', tmp_path / 'sweep.yaml'
    params.write_text('toy:\n  sweep: {x: [1.0, 2.0, 3.0]}\n')
    assert toy(sources, out, '--params', str(params)).returncode == 0
    (out / 'toy' / 'x=1.0' / 'run.json').write_text('{"status": "fini')  # truncated
    (out / 'toy' / 'x=2.0' / 'metrics.json').write_text('{"params": ')  # truncated
    (out / 'toy' / 'x=3.0' / 'comparison.csv').write_text('edited by hand\n"unclosed')  # edited
    got = command(sources, str(out), code=REPORT)
    report = (out / 'report.md').read_text()
    assert (
        got.returncode == 0 and 'unreadable: toy/x=1.0/run.json' in report and 'metrics.json cannot be read' in report
    )
    assert 'comparison.csv' in report.split('| x=3.0 |')[1].splitlines()[0]
    again = toy(sources, out, '--params', str(params))  # a rerun repairs all three
    assert again.returncode == 0 and again.stdout.count('finished') >= 1, again.stdout + again.stderr
    assert len(pd.read_csv(out / 'report.csv')) == 3


def test_9_an_unwritable_report_is_a_message(sources, tmp_path):
    (tmp_path / 'out' / 'report.md').mkdir(parents=True)  # the report cannot be written there
    got = toy(sources, tmp_path / 'out')
    assert got.returncode == 1 and 'report not written' in got.stdout + got.stderr and 'Traceback' not in got.stderr
    assert record(tmp_path / 'out')['status'] == 'finished'  # the run itself is kept


def test_9_a_failed_final_write_fails_that_run_only(monkeypatch, tmp_path):
    import reparam_nb.reproduce as rp

    runs = rp.plan(['vd_mnist'], overrides=['methods=[none]', 'widths=[8]', 'epochs=1', 'train_examples=200'])
    runs += [dict(runs[0], run_id='second')]
    monkeypatch.setattr(rp, '_execute_notebook', lambda run, d, workers, rec: rec.update(status='finished'))
    real = rp.write_json

    def full_disk(obj, path):
        if obj.get('status') != 'running' and obj['run_id'] == 'default':
            raise OSError(28, 'No space left on device')
        real(obj, path)

    monkeypatch.setattr(rp, 'write_json', full_disk)
    recs = [rp.run_one(r, tmp_path) for r in runs]
    assert recs[0]['status'] == 'failed' and 'No space left on device' in recs[0]['error']
    assert recs[1]['status'] == 'failed' and 'metrics.json is missing' in recs[1]['error']  # it went on


def test_10_minor(sources, tmp_path):
    out = tmp_path / 'out'
    d = out / 'toy' / 'default'
    d.mkdir(parents=True)
    (d / '.metrics.json.abc.part').write_text('half')  # a write killed half way
    (d / 'traceback.txt').write_text('an old failure')
    old = os.umask(0o022)
    try:
        assert toy(sources, out).returncode == 0
    finally:
        os.umask(old)
    assert not (d / '.metrics.json.abc.part').exists() and not (d / 'traceback.txt').exists()
    assert (d / 'metrics.json').stat().st_mode & 0o777 == 0o644  # the user's umask, not 0600
    assert record(out)['invocations'] == 1 and record(out)['resumed'] is False  # no earlier record
    (d / 'metrics.json').unlink()  # a finished run whose results were deleted is redone, not skipped
    redo = toy(sources, out)
    assert redo.returncode == 0 and 'redo toy/default: finished earlier, but metrics.json is missing' in redo.stdout
    assert record(out)['resumed'] is True and json.loads((d / 'metrics.json').read_text())['calls'] == 2
    (tmp_path / 'empty').mkdir()
    empty = command(sources, str(tmp_path / 'empty'), code=REPORT)  # no runs: no empty report, exit 2
    assert empty.returncode == 2 and 'not a directory of runs' in empty.stderr
    huge = command(sources, 'sbn', '-p', f'iterations={10**25}', '--out', str(tmp_path / 'huge'))
    assert huge.returncode == 2 and 'and <= 1000000000' in huge.stderr and not (tmp_path / 'huge').exists()
