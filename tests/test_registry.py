"""The generic registry check reads what an entry declares: a new estimator is checked by registering it, nothing else.

A toy REINFORCE written afresh and registered as unbiased passes; the same toy with a bias it does not declare
fails, and so does an unbiased one registered as biased (its declaration contradicts the oracle)."""

import pytest
import torch

from reparam_nb.bernoulli import BERNOULLI_ESTIMATORS, BernoulliEstimator
from reparam_nb.oracle import oracle_cases, registry_check


def toy_reinforce(f, logits, u):
    "f(z) (z - mu): the score-function estimator, from one uniform per unit and sample."
    mu = torch.sigmoid(logits)
    z = (u[0] < mu).to(logits.dtype)
    return f(z)[:, None] * (z - mu)


def toy_biased(f, logits, u):
    return 1.1 * toy_reinforce(f, logits, u)


@pytest.fixture
def registered():
    names = []

    def register(name, entry):
        BERNOULLI_ESTIMATORS[name] = entry
        names.append(name)

    yield register
    for n in names:
        del BERNOULLI_ESTIMATORS[n]


@pytest.mark.parametrize(
    'fn, unbiased, passes',
    [(toy_reinforce, True, True), (toy_biased, True, False), (toy_reinforce, False, False)],
    ids=['unbiased-declared-unbiased', 'biased-declared-unbiased', 'unbiased-declared-biased'],
)
def test_toy_estimator_checked_by_registering_it(registered, fn, unbiased, passes):
    registered('toy', BernoulliEstimator(fn, unbiased, 'a test toy', z_only=True))
    check = registry_check(oracle_cases(), names=['toy'], n=20_000)
    assert bool(check.loc['toy', 'passes']) is passes, check
