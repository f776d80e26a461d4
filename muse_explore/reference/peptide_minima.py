"""The ``peptide-minima`` set: mixed segment chains relaxed with GFN2-xTB down to their minimum.

``peptide-segments`` relaxes its chains for 16 BFGS steps only. The conformer benchmark
(``benchmarks/conformers.py``) relaxes its chains to convergence, and GFN2-xTB finds the
extended strand another 0.9 eV lower there at n = 15 (0.65 eV for the helix); every peptide
model trained without this set misses most of that last stretch, the same for every model,
more the longer the chain. This set covers it, without any model in the loop:

* each draw is a chain of :func:`muse_explore.reference.peptide_segments.segment_specs` with
  **two or three segments** in different basins (helix, PPII, strand). Chains all in one
  conformation are left out: relaxed to convergence they would be the benchmark's own
  structures. So are n = 4 and 5, which hold a single segment only;
* every length n = 6 to 15 (:data:`LENGTHS`) gets the same number of draws (to within one);
* the chain is relaxed with BFGS (step at most 0.1 Å) to the benchmark's criterion,
  :data:`FMAX`, in at most :data:`MAX_STEPS` steps, and the structures after the steps in
  :data:`KEEP` and the last one are the data, with the energy and forces of the relaxation's
  own GFN2-xTB call (a fresh calculator per draw).

``info`` of every structure: ``set``, ``part`` ("peptide"), ``config`` (the draw),
``n_residues``, ``segments`` (N- to C-terminus, e.g. "helix-extended"), ``relax_step``,
``converged`` (whether the relaxation met :data:`FMAX`; set on every frame of the draw) and
``helix_fraction``.
"""

from __future__ import annotations

from ase import Atoms

#: Chain lengths (residues): those of the conformer benchmark's range that hold two segments.
LENGTHS = tuple(range(6, 16))
#: The benchmark's convergence criterion (largest force, eV/Å).
FMAX = 0.05
#: Most BFGS steps (the benchmark allows 300; the chains here start strained, so more).
MAX_STEPS = 500
#: BFGS steps whose structures are kept, besides the last one.
KEEP = (32, 64, 128)


def minima_specs(n: int, *, seed: int = 8) -> list[dict]:
    """``n`` mixed-segment draws, cycling over :data:`LENGTHS`; a function of ``seed`` alone.

    The draws are :func:`segment_specs`'s for each length (its own generator, seeded here
    only), those in a single conformation skipped; ``config`` numbers the kept draws.
    """
    from muse_explore.reference.peptide_segments import segment_specs

    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    want = {length: (n - k + len(LENGTHS) - 1) // len(LENGTHS) for k, length in enumerate(LENGTHS)}
    pool, size = [], 3 * n
    while True:
        pool = [s for s in segment_specs(size, seed=seed, lengths=LENGTHS) if "-" in s["segments"]]
        if all(sum(s["residues"] == m for s in pool) >= c for m, c in want.items()):
            break
        size *= 2
    taken = {length: [s for s in pool if s["residues"] == length][:c] for length, c in want.items()}
    specs = [taken[LENGTHS[k % len(LENGTHS)]][k // len(LENGTHS)] for k in range(n)]
    return [dict(s, config=k) for k, s in enumerate(specs)]


def build_minimum_frames(spec: dict, calc=None, *, set_name: str = "peptide-minima") -> list[Atoms]:
    """The kept structures of one draw's GFN2-xTB relaxation to :data:`FMAX`, with labels.

    ``calc`` relaxes and labels (a fresh GFN2-xTB calculator by default). Every kept
    structure carries the energy and forces of the relaxation's own call at that geometry,
    and ``info["set"]`` is ``set_name``.
    """
    from muse_explore.reference.peptide_segments import relax_keeping

    frames = relax_keeping(spec, set_name, KEEP, fmax=FMAX, max_steps=MAX_STEPS, calc=calc)
    converged = bool((frames[-1].get_forces() ** 2).sum(axis=1).max() ** 0.5 < FMAX)
    for frame in frames:
        frame.info["converged"] = converged
    return frames


def generate_minima_set(out, *, n: int = 120, seed: int = 8, progress: bool = True, jobs: int = 1):
    """Generate (or resume) the ``peptide-minima`` set into ``out``; 5 draws per checkpoint."""
    specs = minima_specs(n, seed=seed)
    return generate_relaxed_set(
        "peptide-minima", specs, build_minimum_frames, out, n=n, seed=seed, chunk=5,
        progress=progress, jobs=jobs,
    )  # fmt: skip


def generate_relaxed_set(
    set_name: str, specs, build, out, *, n: int, seed: int, chunk: int, progress: bool, jobs: int
):
    """Generate (or resume) a set of chains relaxed as ``peptide-minima``'s.

    ``peptide-minima``, ``peptide-pure`` and ``peptide-c7``: ``build(spec)`` gives each draw's
    kept structures, and the set's JSON records the ``make-data`` command that reproduces it.
    """
    from muse_explore.reference.generate import generate

    command = f"muse-explore make-data {set_name} --n {n} --seed {seed}"
    meta = {"set": set_name, "n": n, "seed": seed, "command": command}
    return generate(
        specs, build, out, chunk=chunk, meta=meta, progress=progress, labelled=True, jobs=jobs
    )
