"""The generic flip path on a user's own conditionals: `discrete_reparam` on a binary-latent VAE with MLP encoder and
decoder (K latent units), per training iteration, as a ratio to its floor measured in the same run.

Run by hand (not a test):
    python benchmarks/generic_path.py [--K 40] [--hidden 200] [--batch 100] [--repeats 3] [--device cpu]
The model is `SBN.from_conditionals` with `nn.Sequential` MLPs (784-H-K and K-H-784, tanh): no conditional is an
`nn.Linear`, so every estimator takes the generic path. One iteration = surrogate + backward + an RMSprop step.
The floor: the K flipped decoder passes that any exact flip-based estimator needs, timed alone: the decoder on the
B K rows z with one unit flipped, and the Bernoulli log-likelihood of x under each (no gradient), as one batch.
"""

import argparse
import json
import platform
import statistics

import torch
from torch import nn
from torch.utils.benchmark import Timer

from reparam_nb.sbn import SBN, bernoulli_log_prob
from reparam_nb.flip import _flips
from reparam_nb.sbn_estimators import make_estimator


def timed(fn, min_run_time=1.0):
    fn()  # warm-up
    return (
        1e3
        * Timer('fn()', globals={'fn': fn}, num_threads=torch.get_num_threads())
        .blocked_autorange(min_run_time=min_run_time)
        .median
    )


def binary_vae(K, H, D=784):
    enc = nn.Sequential(nn.Linear(D, H), nn.Tanh(), nn.Linear(H, K))
    dec = nn.Sequential(nn.Linear(K, H), nn.Tanh(), nn.Linear(H, D))
    return SBN.from_conditionals([enc], [dec], (K,), D)


def one_run(K, H, B, device, seed):
    torch.manual_seed(seed)
    model = binary_vae(K, H).to(device)
    x = (torch.rand(B, 784, device=device) < 0.3).float()
    out = {}
    for name in ('lr', 'discrete_reparam'):
        est = make_estimator(name, model)
        opt = torch.optim.RMSprop([*model.parameters(), *est.parameters()], lr=1e-4)

        def step(est=est, opt=opt):
            loss, _ = est.surrogate(x)
            opt.zero_grad()
            loss.backward()
            opt.step()

        out[name] = timed(step)
    z = (torch.rand(B, K, device=device) < 0.5).float()
    dec, xk = model.p_nets[0], x.repeat_interleave(K, 0)

    @torch.no_grad()
    def floor():
        return bernoulli_log_prob(dec(_flips(z).flatten(0, 1)), xk)

    out['floor'] = timed(floor)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--K', type=int, default=40)
    p.add_argument('--hidden', type=int, default=200)
    p.add_argument('--batch', type=int, default=100)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--device', default='cpu')
    a = p.parse_args(argv)
    runs = [one_run(a.K, a.hidden, a.batch, a.device, seed) for seed in range(a.repeats)]
    ratio = [r['discrete_reparam'] / r['floor'] for r in runs]
    summary = dict(
        K=a.K,
        hidden=a.hidden,
        batch=a.batch,
        device=f'{a.device} ({platform.machine()}, {torch.get_num_threads()} threads)',
        ms=({k: round(statistics.median(r[k] for r in runs), 2) for k in runs[0]}),
        discrete_reparam_over_floor=round(statistics.median(ratio), 2),
        per_run=[round(v, 2) for v in ratio],
        discrete_reparam_over_lr=round(statistics.median(r['discrete_reparam'] / r['lr'] for r in runs), 2),
    )
    print(json.dumps(summary, indent=1))


if __name__ == '__main__':
    main()
