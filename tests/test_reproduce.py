"""reparam_nb_reproduce beyond the notebook's lessons: the Dask path on a real LocalCluster, and the shipped copies of
the experiment notebooks and presets being in sync with their sources."""
import json
from pathlib import Path

import pytest

from reparam_nb.reproduce import experiments_dir, reproduce

ROOT = Path(__file__).resolve().parents[1]

def test_shipped_experiments_in_sync():
    sources = sorted((ROOT / 'nbs' / 'experiments').glob('*.ipynb')) + sorted((ROOT / 'configs').glob('*.yaml'))
    shipped = {p.name: p.read_bytes() for p in experiments_dir().iterdir() if p.suffix in ('.ipynb', '.yaml')}
    assert shipped == {p.name: p.read_bytes() for p in sources}, 'run sync_experiments() after editing nbs/experiments or configs'

def test_dask_local_cluster(tmp_path):
    distributed = pytest.importorskip('distributed')
    params = tmp_path / 'sweep.yaml'
    params.write_text('vd_mnist:\n  methods: [none]\n  widths: [8]\n  epochs: 1\n  train_examples: 200\n  sweep: {seed: [0, 1]}\n')
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        recs = reproduce(['vd_mnist'], out=tmp_path / 'out', params_file=params, executor='dask',
                         scheduler=cluster.scheduler_address, progress=False)
    assert sorted((r['run_id'], r['status']) for r in recs) == [('seed=0', 'finished'), ('seed=1', 'finished')]
    hosts = {json.loads((tmp_path / 'out' / 'vd_mnist' / r['run_id'] / 'run.json').read_text())['host'] for r in recs}
    assert hosts and (tmp_path / 'out' / 'report.md').exists()
