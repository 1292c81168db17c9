"""Forward+backward time of `VariationalLinear` in each sampling mode, as a ratio to `nn.Linear` measured in the same run.

Run by hand (not a test):  python benchmarks/local_reparam.py [--features 1024] [--batch 100] [--device cpu]
"""
import argparse, platform

import pandas as pd
import torch
from torch import nn
from torch.utils.benchmark import Timer

from reparam_nb.local_reparam import SAMPLING, VariationalLinear

def step_fn(layer, x):
    def step():
        layer(x).square().mean().backward()
    return step

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--features', type=int, default=1024)
    p.add_argument('--batch', type=int, default=100)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--min-run-time', type=float, default=2.0)
    a = p.parse_args(argv)
    torch.manual_seed(0)
    x = torch.randn(a.batch, a.features, device=a.device)
    layers = {'nn.Linear': nn.Linear(a.features, a.features)}
    layers.update({f'VariationalLinear({m!r})': VariationalLinear(a.features, a.features, m) for m in SAMPLING})
    rows = []
    for name, layer in layers.items():
        step = step_fn(layer.to(a.device), x)
        step()
        m = Timer('step(); sync()', globals={'step': step, 'sync': torch.cuda.synchronize if x.is_cuda else (lambda: None)},
                  num_threads=torch.get_num_threads()).blocked_autorange(min_run_time=a.min_run_time)
        rows.append(dict(layer=name, ms=1e3 * m.median))
    t = pd.DataFrame(rows).set_index('layer')
    t['ratio_to_nn.Linear'] = t.ms / t.loc['nn.Linear', 'ms']
    dev = torch.cuda.get_device_name() if x.is_cuda else f'{torch.get_num_threads()} threads, {platform.machine()}'
    print(f'# {a.features}x{a.features}, batch {a.batch}, forward+backward, {a.device} ({dev}), torch {torch.__version__}')
    print(t.to_string(float_format=lambda v: f'{v:.2f}'))
    return t

if __name__ == '__main__': main()
