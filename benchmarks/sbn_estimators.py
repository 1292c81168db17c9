"""Milliseconds per training iteration of every SBN estimator, as a ratio to `lr` measured in the same run.

Run by hand (not a test):  python benchmarks/sbn_estimators.py [--model linear] [--batch 100] [--device cpu]
One iteration = surrogate + backward + an RMSprop step on the model (and the estimator's own parameters).
Also times the per-unit reference loop of `discrete_reparam` (`reference=True`) against the vectorized one.
"""
import argparse, json, platform, sys

import pandas as pd
import torch
from torch.utils.benchmark import Timer

from reparam_nb.sbn import SBN
from reparam_nb.sbn_estimators import ESTIMATORS, make_estimator

MODELS = {'linear': ((200, 200), 'linear'), 'deep': ((200, 200, 200, 200), 'linear'), 'nonlinear': ((200, 200), 'nonlinear')}

def iteration(model, est, x, opt):
    "One training step; returns nothing."
    def step():
        loss, _ = est.surrogate(x)
        opt.zero_grad(); loss.backward(); opt.step()
    return step

def time_estimator(name, model, x, min_run_time, **options):
    "Median milliseconds per iteration."
    est = make_estimator(name, model, **options)
    opt = torch.optim.RMSprop([*model.parameters(), *est.parameters()], lr=1e-4, alpha=0.99, eps=1e-8)
    step = iteration(model, est, x, opt)
    step()                                              # warm-up
    if x.is_cuda: torch.cuda.synchronize()
    m = Timer('step()', globals={'step': step}, num_threads=torch.get_num_threads()).blocked_autorange(min_run_time=min_run_time)
    return 1e3 * m.median, len(m.times) * m.number_per_run

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--model', default='linear', choices=MODELS)
    p.add_argument('--batch', type=int, default=100)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--min-run-time', type=float, default=2.0, help='seconds of timing per estimator')
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--skip-reference', action='store_true', help='do not time the slow per-unit loop')
    p.add_argument('--json', default=None, help='also write the table here')
    a = p.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    layers, kind = MODELS[a.model]
    model = SBN(784, layers, kind).to(a.device)
    x = (torch.rand(a.batch, 784, device=a.device) < 0.3).float()
    rows = []
    names = list(ESTIMATORS) + ([] if a.skip_reference else ['discrete_reparam (per-unit loop)'])
    for name in names:
        opts = {'reference': True} if 'loop' in name else {}
        ms, n = time_estimator(name.split()[0], model, x, a.min_run_time, **opts)
        rows.append(dict(estimator=name, ms_per_iter=ms, iterations_timed=n))
        print(f'{name:34s} {ms:9.2f} ms/iter', file=sys.stderr)
    t = pd.DataFrame(rows).set_index('estimator')
    t['ratio_to_lr'] = t.ms_per_iter / t.loc['lr', 'ms_per_iter']
    if not a.skip_reference:
        t.loc['discrete_reparam (per-unit loop)', 'loop_over_vectorized'] = (
            t.loc['discrete_reparam (per-unit loop)', 'ms_per_iter'] / t.loc['discrete_reparam', 'ms_per_iter'])
    where = f'{a.model} 784-{"-".join(map(str, layers))}, batch {a.batch}, {a.device}' + (
        f' ({torch.cuda.get_device_name()})' if a.device.startswith('cuda') else f' ({torch.get_num_threads()} threads, {platform.processor() or platform.machine()})')
    print(f'# {where}, torch {torch.__version__}')
    print(t.to_string(float_format=lambda v: f'{v:.2f}'))
    if a.json:
        with open(a.json, 'w') as f: json.dump(dict(setup=where, torch=torch.__version__, table=t.reset_index().to_dict('records')), f, indent=1)
    return t

if __name__ == '__main__': main()
