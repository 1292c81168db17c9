"""Run every notebook under nbs/ with nbdev's own test runner: one pytest test per notebook.

nbdev's flags apply: cells flagged with a name in settings.ini's `tst_flags` are skipped unless named in
$NBDEV_FLAGS (e.g. NBDEV_FLAGS="slow gpu"). Notebooks or folders starting with `_` or `.` are not tests.
"""

import os
from pathlib import Path

import pytest
from nbdev.config import get_config
from nbdev.test import test_nb as run_nb  # aliased so that pytest does not collect it

cfg = get_config()
FLAGS = os.environ.get('NBDEV_FLAGS', '').split()
SKIP = [f for f in str(cfg.get('tst_flags', '')).split() if f not in FLAGS]
NBS = sorted(
    p
    for p in Path(cfg.nbs_path).rglob('*.ipynb')
    if not any(x.startswith(('_', '.')) for x in p.relative_to(cfg.nbs_path).parts)
)


@pytest.mark.parametrize('nb', NBS, ids=lambda p: str(p.relative_to(cfg.nbs_path)))
def test_notebook(nb):
    os.environ.setdefault('MPLBACKEND', 'Agg')
    ok, _ = run_nb(nb, skip_flags=SKIP, force_flags=FLAGS)
    assert ok, f'{nb} failed (traceback above)'
