"""Run every notebook under nbs/ with nbdev's own test runner: one pytest test per notebook.

No cell carries a skip flag: every notebook runs whole, at its quick defaults. The experiment notebooks
(nbs/experiments) are run by tests/test_reproduce.py instead, through papermill at the quick preset, as users run
them. Notebooks or folders starting with `_` or `.` are not tests.
"""

import os
from pathlib import Path

import pytest
from nbdev.config import get_config
from nbdev.test import test_nb as run_nb  # aliased so that pytest does not collect it

cfg = get_config()
NBS = sorted(
    p
    for p in Path(cfg.nbs_path).rglob('*.ipynb')
    if not any(x.startswith(('_', '.')) or x == 'experiments' for x in p.relative_to(cfg.nbs_path).parts)
)


@pytest.mark.parametrize('nb', NBS, ids=lambda p: str(p.relative_to(cfg.nbs_path)))
def test_notebook(nb):
    os.environ.setdefault('MPLBACKEND', 'Agg')
    ok, _ = run_nb(nb)
    assert ok, f'{nb} failed (traceback above)'
