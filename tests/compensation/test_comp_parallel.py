"""Serial behaviour of the MPI helpers and reuse of the trainer's compilation."""

import numpy as np
import pytest

from surrogates.compensation.parallel import bcast, map_over_ranks, rank, share, world


class _FakeComm:
    """Two-rank stand-in: this process plays rank ``r``; allgather adds the other's share."""

    def __init__(self, r: int, other: dict):
        self.r, self.other = r, other

    def Get_rank(self):  # noqa: N802 - mpi4py spelling
        return self.r

    def Get_size(self):  # noqa: N802
        return 2

    def allgather(self, mine):
        return [mine, self.other] if self.r == 0 else [self.other, mine]


def test_serial_helpers(monkeypatch):
    for var in ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"):
        monkeypatch.delenv(var, raising=False)
    assert world() is None and rank(None) == 0 and bcast(5, None) == 5
    assert share(3, None) == [0, 1, 2]
    assert map_over_ranks(lambda k, v: (k, v * 2), ["a", "b"], None) == [(0, "aa"), (1, "bb")]
    with pytest.raises(ValueError):
        share(-1, None)


def test_round_robin_split_and_gather_order():
    items = list("abcde")
    fn = lambda k, v: f"{k}{v}"  # noqa: E731
    other = {k: fn(k, items[k]) for k in (1, 3)}  # what rank 1 computes
    done = []
    out = map_over_ranks(lambda k, v: done.append(k) or fn(k, v), items, _FakeComm(0, other))
    assert done == [0, 2, 4]  # rank 0 computes only its share
    assert out == [fn(k, v) for k, v in enumerate(items)]


def test_trainer_compilation_is_reused():
    from flax import nnx

    from surrogates.compensation import transfer
    from surrogates.compensation.model import CompensationNet
    from surrogates.compensation.transfer import (
        FineTuneConfig,
        init_members,
        layer_masks,
        train_members,
    )

    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 1, 3)).astype(np.float32)
    y = x[:, 0, 0].astype(np.float32)
    pre = CompensationNet(rngs=nnx.Rngs(0))
    runs, cached = [], []
    for seeds in ([0, 1], [2, 3]):
        g, p = init_members(("none", "none", "none", "dense"), seeds, pretrained=pre)
        masks = layer_masks(p, [()] * 2)
        runs.append(
            train_members(g, p, masks, x=x, y=y, sample_ids=[np.arange(20)] * 2, val=(x, y),
                          seeds=seeds, config=FineTuneConfig(epochs=1), evaluate=True)
        )  # fmt: skip
        cached.append(len(transfer._COMPILED))
    # the second call (same shapes, other seeds) reuses the first call's executable: the cache
    # does not grow and no compile time is charged (asserted on the cache, not on a timing)
    assert cached[1] == cached[0]
    assert runs[0].compile_seconds > 0.0 and runs[1].compile_seconds < runs[0].compile_seconds
    assert runs[1].predictions.shape == (2, 20)
    assert not np.allclose(runs[0].predictions, runs[1].predictions)  # other seeds, other runs
