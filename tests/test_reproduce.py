"""reparam_nb_reproduce beyond notebook 09's checks: every experiment end to end at its quick preset, the Dask path on
a real LocalCluster, and a checkout reading its own experiment notebooks and presets (the wheel's copies are checked
in test_install)."""

import json
from pathlib import Path

import pytest

from reparam_nb.experiment import experiment_sources
from reparam_nb.reproduce import reproduce
from reparam_nb.runs import EXPERIMENTS, notebook, preset_params

ROOT = Path(__file__).resolve().parents[1]


def test_checkout_reads_its_own_sources():
    assert experiment_sources() == (ROOT / 'nbs' / 'experiments', ROOT / 'configs')
    assert (
        notebook('sbn') == ROOT / 'nbs' / 'experiments' / 'sbn.ipynb'
        and preset_params('sbn', 'medium')['model'] == 'linear'
    )
    assert not (ROOT / 'reparam_nb' / 'experiments').exists() or not any(
        (ROOT / 'reparam_nb' / 'experiments').glob('*.ipynb')
    ), 'experiment notebooks are packaged at build time; no copies in the source tree'


def test_dask_local_cluster(tmp_path):
    distributed = pytest.importorskip('distributed')
    params = tmp_path / 'sweep.yaml'
    params.write_text(
        'vd_mnist:\n  methods: [none]\n  widths: [8]\n  epochs: 1\n  train_examples: 200\n  sweep: {seed: [0, 1]}\n'
    )
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        recs = reproduce(
            ['vd_mnist'],
            out=tmp_path / 'out',
            params_file=params,
            executor='dask',
            scheduler=cluster.scheduler_address,
            progress=False,
        )
    assert sorted((r['run_id'], r['status']) for r in recs) == [('seed=0', 'finished'), ('seed=1', 'finished')]
    hosts = {json.loads((tmp_path / 'out' / 'vd_mnist' / r['run_id'] / 'run.json').read_text())['host'] for r in recs}
    assert hosts and (tmp_path / 'out' / 'report.md').exists()


@pytest.mark.parametrize('name', EXPERIMENTS)
def test_every_experiment_at_its_quick_preset(tmp_path, name):
    """Each experiment notebook through papermill at the quick preset (its defaults), as a user runs it; this is the
    experiment notebooks' test (tests/test_notebooks.py leaves nbs/experiments to it)."""
    recs = reproduce([name], 'quick', tmp_path, device='cpu', progress=False)
    assert [r['status'] for r in recs] == ['finished'], recs
    assert f'## {name}' in (tmp_path / 'report.md').read_text()
    assert (tmp_path / name / 'default' / 'notebook.ipynb').exists()
