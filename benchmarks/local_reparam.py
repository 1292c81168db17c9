"""Training-step time (zero_grad, forward, backward) of `VariationalLinear` in each sampling mode, as a ratio to
`nn.Linear` measured in the same run, at each batch size; the peak memory one step allocates above what was held
before it (measured after all timings, as the profiler disturbs the allocator); and the minor page faults per step
(the timed steps and the Timer's few calibration steps), which show when the allocator hands freed memory back to the
system and re-faults it.

The floor of the local reparameterization: its step needs four matrix products of nn.Linear's size (the mean
A theta^T and the variance A^2 (alpha theta^2)^T forward; the gradients of theta and of the variance backward) where
nn.Linear needs two. Three floor rows:
- 'floor: 4 products' times those four alone, on tensors of the same shapes;
- 'floor: step, no weight-sized work' is a whole training step of a layer whose per-weight variances are themselves
  the parameter: the four products, the B x n_out normal draws and the activation-sized work, inside autograd, but
  no pass over the n_out x n weights besides the products (what no layer with per-weight variances can go below);
- 'floor: same + exp of the rates' adds the one weight-sized pass a rate parameterization cannot avoid (alpha = e^rho).

Run by hand (not a test):
    python benchmarks/local_reparam.py [--features 1024] [--batch 100 1000] [--repeats 3] [--device cpu]
"""

import argparse
import platform

import pandas as pd
import torch
from torch import nn
from torch.utils.benchmark import Timer

from reparam_nb.local_reparam import SAMPLING, VariationalLinear
from sbn_estimators import peak_mb  # the sibling script's measure of one call's peak memory


def minor_faults():
    """This process's minor page faults so far (Linux and macOS; NaN elsewhere): fresh memory the allocator had returned
    to the system."""
    try:
        import resource
    except ImportError:
        return float('nan')
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def step_fn(layer, x):
    "One step as a training loop takes it: grads set to None (PyTorch's default), forward, a scalar loss, backward."

    def step():
        layer.zero_grad(set_to_none=True)
        layer(x).square().mean().backward()

    return step


def floor_fn(x, theta):
    """The four matrix products of one local-reparameterization step, alone: forward mean and variance, backward
    gradients of theta and the variance."""
    x2, var, g, d = x * x, theta * theta, torch.randn_like(x), torch.randn_like(x)

    def products():
        x @ theta.T
        x2 @ var.T
        g.T @ x
        d.T @ x2

    return products


class _FloorStep(torch.autograd.Function):
    """The local reparameterization's step with no weight-sized elementwise work besides, if `buf` is given, V = e^rho
    into it (and V . S backward)."""

    @staticmethod
    def forward(ctx, a, theta, beta, v, buf):
        var = v if buf is None else torch.exp(v, out=buf)
        a2 = a * a
        sd = (a2 @ var.T).sqrt_()
        eps = torch.randn_like(sd)
        ctx.save_for_backward(a, a2, eps, sd)
        ctx.var = None if buf is None else var
        return torch.addmm(beta, a, theta.T).addcmul_(sd, eps)

    @staticmethod
    def backward(ctx, g):
        a, a2, eps, sd = ctx.saved_tensors
        s = (g * eps / (2 * sd)).T @ a2
        return None, g.T @ a, g.sum(0), s if ctx.var is None else s.mul_(ctx.var), None


class FloorLayer(nn.Module):
    """Per-weight variances as the parameter (`exp_rates`: their logs, so one exp forward and one multiply backward); no
    projection, no alpha theta."""

    def __init__(self, n, exp_rates=False):
        super().__init__()
        lin = nn.Linear(n, n)
        self.weight, self.bias = lin.weight, lin.bias
        v = 0.5 * lin.weight.detach() ** 2
        self.v = nn.Parameter(v.log() if exp_rates else v)
        self.register_buffer('buf', torch.empty_like(v) if exp_rates else None)

    def forward(self, a):
        return _FloorStep.apply(a, self.weight, self.bias, self.v, self.buf)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--features', type=int, default=1024)
    p.add_argument('--batch', type=int, nargs='+', default=[100, 1000])
    p.add_argument('--repeats', type=int, default=3, help='timed runs per layer; the median is reported')
    p.add_argument(
        '--per-example-max',
        type=int,
        default=200,
        help="largest batch at which 'per_example' is timed (it is ~B x slower)",
    )
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--min-run-time', type=float, default=1.0)
    a = p.parse_args(argv)
    sync = torch.cuda.synchronize if a.device.startswith('cuda') else (lambda: None)
    torch.manual_seed(0)
    layers = {'nn.Linear': nn.Linear(a.features, a.features)}
    layers.update({f'VariationalLinear({m!r})': VariationalLinear(a.features, a.features, m) for m in SAMPLING})
    floors = {
        'floor: step, no weight-sized work': FloorLayer(a.features),
        'floor: same + exp of the rates': FloorLayer(a.features, True),
    }
    rows, steps = [], {}
    for batch in a.batch:
        x = torch.randn(batch, a.features, device=a.device)
        for name, layer in [*layers.items(), ('floor: 4 products', None), *floors.items()]:
            if 'per_example' in name and batch > a.per_example_max:
                continue
            step = (
                step_fn(layer.to(a.device), x)
                if layer is not None
                else floor_fn(x, layers['nn.Linear'].weight.detach())
            )
            step()
            steps[batch, name] = step
            for r in range(a.repeats):
                f0 = minor_faults()
                m = Timer(
                    'step(); sync()', globals={'step': step, 'sync': sync}, num_threads=torch.get_num_threads()
                ).blocked_autorange(min_run_time=a.min_run_time)
                n = m.number_per_run * len(m.raw_times)
                rows.append(
                    dict(batch=batch, layer=name, repeat=r, ms=1e3 * m.median, faults=(minor_faults() - f0) / n)
                )
    runs = pd.DataFrame(rows)
    peaks = {
        key: peak_mb(step, a.device) for key, step in steps.items()
    }  # after every timing: the profiler disturbs the allocator
    runs['peak_MB'] = [peaks[b, l] for b, l in zip(runs.batch, runs.layer)]
    runs['ratio'] = runs.ms / runs.groupby(['batch', 'repeat']).ms.transform(
        lambda s: s[runs.loc[s.index, 'layer'] == 'nn.Linear'].iloc[0]
    )
    t = runs.groupby(['batch', 'layer'], sort=False).agg(
        ms=('ms', 'median'),
        ratio_to_nn_Linear=('ratio', 'median'),
        ratio_min=('ratio', 'min'),
        ratio_max=('ratio', 'max'),
        faults_per_step=('faults', 'median'),
        peak_MB=('peak_MB', 'first'),
    )
    dev = (
        torch.cuda.get_device_name()
        if a.device.startswith('cuda')
        else f'{torch.get_num_threads()} threads, {platform.machine()}'
    )
    print(
        f'# {a.features}x{a.features}, zero_grad + forward + backward, {a.device} ({dev}), torch {torch.__version__}; '
        f'median of {a.repeats} runs (ratios within each run)'
    )
    print(t.to_string(float_format=lambda v: f'{v:.2f}', formatters={'faults_per_step': lambda v: f'{v:.0f}'}))
    return t


if __name__ == '__main__':
    main()
