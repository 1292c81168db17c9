"""One VAE training step (zero_grad, the pathwise ELBO surrogate, backward, Adam's step) with `VAE.surrogate`, beside
the same step written by hand in plain PyTorch on the same parameters and the same noise: medians of interleaved
rounds, and their ratio. The model is the IWAE paper's (784-200-200-50 encoder, a symmetric decoder, tanh), batch 100
of binarized digits.

Run by hand (not a test):
    python benchmarks/vae_step.py [--batch 100] [--rounds 15] [--steps 50] [--threads 1]
"""

import argparse
import math
import platform
import statistics
import time

import torch
import torch.nn.functional as nnf

from reparam_nb.vae import VAE


def hand_loss(m, x, eps):
    "The negative batch-mean ELBO written out: Bernoulli decoder, N(0, I) prior, the Gaussian's entropy in closed form."
    mu, log_sigma = m.encoder(x).chunk(2, -1)
    z = mu + log_sigma.exp() * eps
    log_px = -nnf.binary_cross_entropy_with_logits(m.decoder(z), x, reduction='none').sum(-1)
    log_pz = -0.5 * z.square().sum(-1) - 0.5 * z.shape[-1] * math.log(2 * math.pi)
    entropy = log_sigma.sum(-1) + 0.5 * z.shape[-1] * (1 + math.log(2 * math.pi))
    return -(log_px + log_pz + entropy).mean()


def steps(m, opt, x, loss_fn, n):
    "n training steps, timed: milliseconds per step."
    t = time.perf_counter()
    for _ in range(n):
        opt.zero_grad(set_to_none=True)
        loss_fn().backward()
        opt.step()
    return (time.perf_counter() - t) / n * 1000


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--batch', type=int, default=100)
    p.add_argument('--rounds', type=int, default=15)
    p.add_argument('--steps', type=int, default=50)
    p.add_argument('--threads', type=int, default=1)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    m = VAE(784, 50, 200, 2, 'tanh')
    opt = torch.optim.Adam(m.parameters(), lr=1e-4)  # small: the parameters barely move over the rounds
    x = (torch.rand(a.batch, 784) < 0.3).float()
    g = torch.Generator().manual_seed(0)
    eps = torch.randn(a.batch, 50)
    # the same value on the same noise: the hand-written step computes what the package's does
    ours = m.surrogate(x, generator=torch.Generator().manual_seed(1))[0]
    theirs = hand_loss(m, x, torch.randn((1, a.batch, 50), generator=torch.Generator().manual_seed(1))[0])
    assert torch.allclose(ours, theirs, rtol=1e-5), (ours.item(), theirs.item())
    fns = {
        'VAE.surrogate (pathwise)': lambda: m.surrogate(x, generator=g)[0],
        'hand-written ELBO': lambda: hand_loss(m, x, eps.normal_(generator=g)),
    }
    for f in fns.values():  # warm-up
        steps(m, opt, x, f, 5)
    times = {k: [] for k in fns}
    for r in range(a.rounds):  # interleaved, in alternating order: both see the same machine state
        for k in list(fns)[:: 1 if r % 2 == 0 else -1]:
            times[k].append(steps(m, opt, x, fns[k], a.steps))
    med = {k: statistics.median(v) for k, v in times.items()}
    ratios = sorted(o / h for o, h in zip(*times.values()))  # each round's ratio: the machine's drift cancels
    print(
        f'{platform.processor() or platform.machine()}, torch {torch.__version__}, {a.threads} thread(s), '
        f'batch {a.batch}, {a.rounds} rounds of {a.steps} steps; load average {open("/proc/loadavg").read()[:14]}'
    )
    for k, v in med.items():
        print(f'{k:28s} {v:7.3f} ms per step (median; rounds {min(times[k]):.3f} to {max(times[k]):.3f})')
    q = len(ratios) // 4
    print(
        f'ratio of the medians: {med["VAE.surrogate (pathwise)"] / med["hand-written ELBO"]:.3f}; median of the '
        f'per-round ratios: {statistics.median(ratios):.3f} (quartiles {ratios[q]:.3f} to {ratios[-q - 1]:.3f})'
    )


if __name__ == '__main__':
    main()
