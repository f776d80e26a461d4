"""Train a config with NaN atom features on one forward call of one process (a DDP test's helper).

    python -m torch.distributed.run --nproc_per_node=2 poisoned_run.py CONFIG RANK CALL

Process ``RANK`` (0 when not distributed) gives NaN atom features on its forward call
``CALL`` (counted from 1), as a batch whose features overflowed would.
"""

import sys

import torch

from muse_explore.training import TrainConfig, Trainer


def main() -> None:
    path, rank, call = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    trainer = Trainer(TrainConfig.from_yaml(path), progress=False)
    calls = []

    def poison(_module, _inputs, output):
        calls.append(1)
        return output * float("nan") if len(calls) == call else None

    if trainer.dist.rank == rank:
        trainer.model.backbones[0].embedding.register_forward_hook(poison)
    torch.set_num_threads(1)
    try:
        trainer.fit()
    finally:
        trainer.close()


if __name__ == "__main__":
    main()
