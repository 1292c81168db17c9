"""One training step of a variational-dropout MLP beside nn.Linear and bayesian-torch's `LinearReparameterization`,
measured side by side in one process.

The network is the paper's MNIST one at its widest: 784-1024-1024-1024-10 with ReLU. One step is what a training
loop takes: gradients set to None, the forward pass, the loss (cross-entropy, plus KL / N for the Bayesian layers),
the backward pass; and, in the rows with update 'adam', an Adam update (both kinds are measured by default). The
networks:
- 'nn.Linear': the same MLP without noise (the floor a deterministic network sets);
- "VariationalLinear('local')" and "VariationalLinear('shared')": the package's `MLP` with variational dropout B
  (a learned alpha per weight) in the local reparameterization and with one weight sample per minibatch, its loss
  `sgvb_loss`;
- 'bayesian-torch LinearReparameterization': bayesian-torch's mean-field Gaussian layer (one weight sample per
  minibatch, as 'shared'), its KL summed over the layers, if bayesian-torch is installed.

Rounds are interleaved (every network steps `--steps` times in each round, in a new random order each round); the
ratio to nn.Linear is taken within each round, and the table gives the median over rounds with the quartiles.

The peer is optional: `pip install --no-deps bayesian-torch==0.5.0` (its layers need torch alone; `--no-deps` keeps its
declared torchvision, tensorboard and scikit-learn out, which the layers do not import).

Run by hand (not a test):
    python benchmarks/vd_mlp.py [--batch 100 1000] [--rounds 15] [--steps 5] [--threads 2]
"""

import argparse
import platform
import random
import time

import pandas as pd
import torch
import torch.nn.functional as nnf
from torch import nn

from reparam_nb.local_reparam import MLP, sgvb_loss


def plain_mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers += [nn.Linear(sizes[i], sizes[i + 1]), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


class PeerMLP(nn.Module):
    "bayesian-torch's layers in the same MLP; forward returns the logits and the summed KL."

    def __init__(self, sizes):
        super().__init__()
        from bayesian_torch.layers import LinearReparameterization

        self.layers = nn.ModuleList(LinearReparameterization(sizes[i], sizes[i + 1]) for i in range(len(sizes) - 1))

    def forward(self, x):
        kl = 0
        for i, layer in enumerate(self.layers):
            x, k = layer(x)
            kl = kl + k
            if i < len(self.layers) - 1:
                x = torch.relu(x)
        return x, kl


def step_fn(name, net, x, y, n_train, update):
    opt = torch.optim.Adam(net.parameters(), lr=1e-3) if update == 'adam' else None
    if name == 'nn.Linear':
        loss_fn = lambda: nnf.cross_entropy(net(x), y)  # noqa: E731
    elif name.startswith('bayesian-torch'):

        def loss_fn():
            logits, kl = net(x)
            return nnf.cross_entropy(logits, y) + kl / n_train
    else:
        loss_fn = lambda: sgvb_loss(net, x, y, n_train)  # noqa: E731

    def step():
        net.zero_grad(set_to_none=True)
        loss_fn().backward()
        if opt is not None:
            opt.step()

    return step


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--sizes', type=int, nargs='+', default=[784, 1024, 1024, 1024, 10])
    p.add_argument('--batch', type=int, nargs='+', default=[100, 1000])
    p.add_argument('--rounds', type=int, default=15)
    p.add_argument('--steps', type=int, default=5, help='steps per network and update per round')
    p.add_argument(
        '--update',
        nargs='+',
        default=['none', 'adam'],
        help="'none': forward and backward only; 'adam': and the update",
    )
    p.add_argument('--threads', type=int, default=None, help='torch threads (default: torch decides)')
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    a = p.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    sync = torch.cuda.synchronize if a.device.startswith('cuda') else (lambda: None)
    torch.manual_seed(0)
    nets = {
        'nn.Linear': plain_mlp(a.sizes),
        "VariationalLinear('local')": MLP(tuple(a.sizes), 'vd_b', sampling='local'),
        "VariationalLinear('shared')": MLP(tuple(a.sizes), 'vd_b', sampling='shared'),
    }
    try:
        nets['bayesian-torch LinearReparameterization'] = PeerMLP(a.sizes)
    except ImportError:
        print('# bayesian-torch is not installed: its row is left out')
    rows, order = [], random.Random(0)
    for batch in a.batch:
        x = torch.randn(batch, a.sizes[0], device=a.device)
        y = torch.randint(a.sizes[-1], (batch,), device=a.device)
        steps = {
            (u, k): step_fn(k, net.to(a.device).train(), x, y, 60_000, u) for u in a.update for k, net in nets.items()
        }
        for step in steps.values():  # warm-up: allocator, Adam's state
            for _ in range(3):
                step()
        sync()
        for r in range(a.rounds):
            names = list(steps)
            order.shuffle(names)
            for u, name in names:
                t0 = time.perf_counter()
                for _ in range(a.steps):
                    steps[u, name]()
                sync()
                rows.append(
                    dict(batch=batch, update=u, net=name, round=r, ms=1e3 * (time.perf_counter() - t0) / a.steps)
                )
    runs = pd.DataFrame(rows)
    runs['net'] = pd.Categorical(runs.net, categories=list(nets), ordered=True)
    keys = ['batch', 'update', 'round']
    at = list(zip(*(runs[k] for k in keys)))
    runs['ratio'] = runs.ms.values / runs[runs.net == 'nn.Linear'].set_index(keys).ms.loc[at].values
    peer = runs[runs.net.str.startswith('bayesian-torch')].set_index(keys).ms
    if len(peer):
        runs['ratio_to_peer'] = runs.ms.values / peer.loc[at].values
    g = runs.groupby(['batch', 'update', 'net'], observed=True)
    t = g.agg(ms=('ms', 'median'), ratio_to_nn_Linear=('ratio', 'median'))
    t['q25'], t['q75'] = g.ratio.quantile(0.25), g.ratio.quantile(0.75)
    if len(peer):
        t['ratio_to_peer'] = g.ratio_to_peer.median()
        t['peer_q25'], t['peer_q75'] = g.ratio_to_peer.quantile(0.25), g.ratio_to_peer.quantile(0.75)
    dev = (
        torch.cuda.get_device_name()
        if a.device.startswith('cuda')
        else f'{torch.get_num_threads()} threads, {platform.machine()}'
    )
    print(
        f'# {"-".join(map(str, a.sizes))} MLP, one training step, {a.device} ({dev}), torch {torch.__version__}; '
        f'medians over {a.rounds} interleaved rounds of {a.steps} steps (ratios within each round)'
    )
    print(t.to_string(float_format=lambda v: f'{v:.2f}'))
    return t


if __name__ == '__main__':
    main()
