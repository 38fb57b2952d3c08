"""Slow, obviously-correct reference of the Akida edge-learning rule.

Transcribed line by line from the pseudocode in shared/reference/akida_learning.md,
with Python ints and lists only. Used to check kernels/learning.py.
"""

import math


def naive_constants(K, p0, lc, pmin, d):
    """(th0, D, M, CAP), all parameters used as Python doubles."""
    p0, lc, pmin, d = float(p0), float(lc), float(pmin), float(d)
    th0 = math.floor(K * p0 + 0.5)
    D = math.ceil(th0 * d)
    M = math.ceil(K * pmin)
    CAP = math.floor(K * (1 - lc) + 0.5)
    return th0, D, M, CAP


class NaiveLearner:
    """State of one learning layer: W[i][j] (N x U), threshold_learning, thswap, counter t."""

    def __init__(self, W, threshold_learning, thswap, t, C, D, M, CAP):
        self.W = [[int(v) for v in row] for row in W]
        self.threshold_learning = [int(v) for v in threshold_learning]
        self.thswap = [int(v) for v in thswap]
        self.t = int(t)
        self.C, self.D, self.M, self.CAP = int(C), int(D), int(M), int(CAP)
        self.N = len(self.W)
        self.U = len(self.threshold_learning)

    def select(self, n, k):
        q, r = divmod(n, k)
        start = 0
        picks = []
        for i in range(k):
            size = q + 1 if i < r else q
            self.t = self.t % size
            picks.append(start + self.t)
            self.t = self.t + 1
            start += size
        return picks

    def learn(self, x, label):
        """One sample; returns the potentials before the update."""
        x = [int(v) for v in x]
        N, U, W = self.N, self.U, self.W
        pot = [sum(x[i] * W[i][j] for i in range(N)) for j in range(U)]
        if self.C > 1 and label is not None and label != -1:
            assert 0 <= label < self.C
            cand_neurons = range(label * U // self.C, (label + 1) * U // self.C)
        else:
            cand_neurons = range(U)
        elig = [j for j in cand_neurons if pot[j] > self.threshold_learning[j]]
        if not elig:
            return pot
        j = max(elig, key=lambda n: (pot[n], -n))
        inact = [i for i in range(N) if W[i][j] == 1 and x[i] == 0]
        cand = [i for i in range(N) if W[i][j] == 0 and x[i] == 1]
        k = min(self.thswap[j], len(inact), len(cand))
        if k > 0:
            rem = self.select(len(inact), k)
            add = self.select(len(cand), k)
            for r in rem:
                W[inact[r]][j] = 0
            for a in add:
                W[cand[a]][j] = 1
            self.threshold_learning[j] = min(pot[j], self.CAP)
        self.thswap[j] = max(self.thswap[j] - self.D, self.M)
        return pot

    def fit(self, X, labels=None):
        """Samples in order; returns the list of potentials (before each update)."""
        outs = []
        for s, x in enumerate(X):
            label = None if labels is None else int(labels[s])
            outs.append(self.learn(x, label))
        return outs
