"""Under pytest-xdist (`-n`, set in pyproject.toml) each worker computes on one thread: two workers with two torch
threads each on a 2-core machine oversubscribe it and run many times slower than one worker alone. Kernels that the
papermill tests start inherit the setting through the environment."""

import os

if os.environ.get('PYTEST_XDIST_WORKER'):
    os.environ['OMP_NUM_THREADS'] = os.environ['MKL_NUM_THREADS'] = '1'
    import torch

    torch.set_num_threads(1)


# the longest tests first, so that the workers finish together (measured: pytest --durations=12)
LONGEST = ('07_vae', 'quick_preset[sbn]', '02b_oracle', '09_reproduce', '04_sbn_estimators', 'outputs_and_resumes')


def pytest_collection_modifyitems(items):
    def rank(item):
        return next((i for i, key in enumerate(LONGEST) if key in item.nodeid), len(LONGEST))

    items.sort(key=rank)
