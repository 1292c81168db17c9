"""Milliseconds per training iteration of every SBN estimator, as ratios to `lr` and to the flip estimators' floor,
measured in the same run; the median of `--repeats` runs; and the peak memory of one iteration.

Run by hand (not a test):
    python benchmarks/sbn_estimators.py [--model linear deep nonlinear] [--weights random trained] [--device cpu]
One iteration = surrogate + backward + an RMSprop step on the model (and the estimator's own parameters).
`--weights trained` loads a model trained by the SBN experiment (`--state MODEL=PATH ...`, the `model` entry of one of
its checkpoints, as `reparam_nb.experiment.save_state` writes them) and real digits (MNIST, dynamically binarized; needs
the data, e.g. $REPARAM_NB_DATA); without `--state` it trains the model itself for `--train-iterations` iterations
with `muprop` on those digits first (for a model without a `--state`).
The floor: the elementwise work any exact flip-based estimator does per iteration on the linear models, timed alone:
the softplus-and-sum of the B x n x D flipped data logits (`_flip_softplus_sum`, as the estimators compute it: one
multiply-add per term and a logarithm per group of terms) and, for each stochastic layer below the top, a sigmoid over
the B n x m logits of the layer above at each flip and their softplus sum (`_flip_softplus`, the same way).
"""

import argparse
import itertools
import json
import platform
from pathlib import Path

import pandas as pd
import torch
from torch.profiler import ProfilerActivity, profile
from torch.utils.benchmark import Timer

from reparam_nb.sbn import SBN
from reparam_nb.flip import _flip_logits, _flip_softplus, _flip_softplus_sum
from reparam_nb.sbn_estimators import ESTIMATORS, make_estimator
from reparam_nb.experiment import SBN_MODELS

LOOP = 'discrete_reparam_loop'  # the per-unit reference loop (`reference=True`)


def iteration(est, x, opt):
    def step():
        loss, _ = est.surrogate(x)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def timed(fn, min_run_time, sync):
    fn()
    sync()  # warm-up (and workspace buffers)
    return (
        1e3
        * Timer('fn(); sync()', globals={'fn': fn, 'sync': sync}, num_threads=torch.get_num_threads())
        .blocked_autorange(min_run_time=min_run_time)
        .median
    )


def peak_mb(fn, device):
    """Peak memory one call allocates above what was held before it: CUDA's allocator peak, or on a CPU the running sum
    of the profiler's allocation and free events."""
    if device.startswith('cuda'):
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        fn()
        torch.cuda.synchronize()
        return (torch.cuda.max_memory_allocated() - base) / 2**20
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = sorted((e for e in prof.events() if e.self_cpu_memory_usage), key=lambda e: e.time_range.start)
    return max(itertools.accumulate((e.self_cpu_memory_usage for e in events), initial=0)) / 2**20


def floor_fn(model, x):
    """The elementwise floor described in the module docstring, on the model's current weights and samples (real logits,
    not garbage)."""
    with torch.no_grad():
        zs, _ = model.sample_q(x)
        hs, ws, above = [x, *zs], {}, []
        for l in range(model.L - 1):
            net, z = model.q_nets[l + 1], hs[l + 1]
            X = _flip_logits(net, z)
            above.append((net, z, X, torch.empty_like(X)))

        @torch.no_grad()
        def floor():
            for l in range(model.L):
                z, net = hs[l + 1], model.p_nets[l]
                _flip_softplus_sum(net(z), 1 - 2 * z, net.weight.T.contiguous(), ws)
            for net, z, X, p in above:
                torch.sigmoid(X, out=p)
                _flip_softplus(net, z, X, ws)

        return floor


def state_path(a, model_name):
    "The checkpoint given for `model_name` (MODEL=PATH; a bare PATH is the first model's), or None."
    given = dict(s.split('=', 1) if '=' in s else (a.model[0], s) for s in a.state or [])
    return given.get(model_name)


def setup(model_name, weights, batch, a):
    torch.manual_seed(0)
    model = SBN(784, **SBN_MODELS[model_name], init='lecun_normal').to(a.device)
    if weights == 'random':
        return model, (torch.rand(batch, 784, device=a.device) < 0.3).float()
    from reparam_nb.data import load_dataset

    xr, _ = load_dataset('mnist', 'train')
    model.input_mean = xr.mean(0).to(a.device)

    def binarize():
        return (torch.rand(batch, 784) < xr[torch.randint(len(xr), (batch,))]).float().to(a.device)

    if state_path(a, model_name):
        ck = torch.load(state_path(a, model_name), map_location=a.device, weights_only=False)
        model.load_state_dict(
            ck['objects']['model'] if 'objects' in ck else ck['model']
        )  # reparam_nb.experiment.save_state's layout, or 0.1's
    else:
        est = make_estimator('muprop', model)
        opt = torch.optim.RMSprop([*model.parameters(), *est.parameters()], lr=1e-3, alpha=0.99, eps=1e-8)
        for _ in range(a.train_iterations):
            loss, _ = est.surrogate(binarize())
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model, binarize()


def run_once(model, x, a, sync):
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    rows = []
    for name in a.estimators:
        model.load_state_dict(sd)
        est = make_estimator('discrete_reparam', model, reference=True) if name == LOOP else make_estimator(name, model)
        opt = torch.optim.RMSprop([*model.parameters(), *est.parameters()], lr=1e-5, alpha=0.99, eps=1e-8)
        step = iteration(est, x, opt)
        rows.append(dict(estimator=name, ms=timed(step, a.min_run_time, sync), peak_MB=peak_mb(step, a.device)))
    model.load_state_dict(sd)
    if model.kind == 'linear':
        rows.append(dict(estimator='floor', ms=timed(floor_fn(model, x), a.min_run_time, sync), peak_MB=float('nan')))
    t = pd.DataFrame(rows).set_index('estimator')
    t['ratio_to_lr'] = t.ms / t.loc['lr', 'ms']
    if LOOP in t.index and 'discrete_reparam' in t.index:
        t.loc[LOOP, 'loop_over_vectorized'] = t.loc[LOOP, 'ms'] / t.loc['discrete_reparam', 'ms']
    if 'floor' in t.index:
        t['ratio_to_floor'] = t.ms / t.loc['floor', 'ms']
    return t


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--model', nargs='+', default=['linear'], choices=list(SBN_MODELS))
    p.add_argument('--weights', nargs='+', default=['random'], choices=['random', 'trained'])
    p.add_argument('--estimators', nargs='+', default=[*ESTIMATORS, LOOP], choices=[*ESTIMATORS, LOOP])
    p.add_argument(
        '--state',
        nargs='+',
        default=None,
        help='for --weights trained: checkpoints of the SBN experiment, MODEL=PATH (or one PATH for the first model)',
    )
    p.add_argument('--train-iterations', type=int, default=2000)
    p.add_argument(
        '--batch', type=int, default=None, help="default: the model's batch size in the experiment (100; 20 nonlinear)"
    )
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--min-run-time', type=float, default=1.0, help='seconds of timing per estimator and run')
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--json', default=None, help='also write the tables here')
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    sync = torch.cuda.synchronize if a.device.startswith('cuda') else (lambda: None)
    dev = (
        torch.cuda.get_device_name()
        if a.device.startswith('cuda')
        else f'{torch.get_num_threads()} threads, {platform.processor() or platform.machine()}'
    )
    out = {}
    for model_name in a.model:
        for weights in a.weights:
            batch = a.batch or (20 if model_name == 'nonlinear' else 100)
            model, x = setup(model_name, weights, batch, a)
            runs = [run_once(model, x, a, sync) for _ in range(a.repeats)]
            t = pd.concat(runs).groupby(level=0, sort=False).median()
            for col in ('ratio_to_lr', 'ratio_to_floor'):
                if col in t:
                    t[col.replace('ratio', 'range')] = (
                        pd.concat(runs).groupby(level=0, sort=False)[col].agg(lambda s: f'{s.min():.1f}-{s.max():.1f}')
                    )
            arch = '-'.join(map(str, model.layers))
            where = f'{model_name} 784-{arch}, {weights} weights, batch {len(x)}, {a.device} ({dev})'
            where += f', torch {torch.__version__}'
            print(f'# {where}; median of {a.repeats} runs (ratios within each run)')
            print(t.to_string(float_format=lambda v: f'{v:.2f}'), flush=True)
            out[f'{model_name}/{weights}'] = dict(setup=where, table=t.reset_index().to_dict('records'))
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1))
    return out


if __name__ == '__main__':
    main()
