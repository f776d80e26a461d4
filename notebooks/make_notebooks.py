"""Write the teaching notebooks (run from the repo root: python notebooks/make_notebooks.py).

The notebooks are generated so that their code stays reviewable as plain Python here; the
.ipynb files are committed without outputs and executed by tests/notebooks.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

NOTEBOOKS = {
    "01_quickstart": [
        (
            "md",
            """# MuSE quickstart: soft assignments and per-scale energies

A pretrained MuSE-PaiNN model (trained on GFN2-xTB molecule–graphene data, see
`muse_explore/pretrained/muse-painn-graphene.md`) evaluated on benzene 3.4 Å above
circumcoronene. The explorer below has three tabs:

* **assignments**: atoms coloured by their dominant coarse node (intensity = the atom's
  share), coarse nodes as translucent spheres. Change the level, pick a node (menu, click on
  an atom, or click its bar in the chart below) to see its soft membership; move σ, the
  temperature or switch soft/hard and the assignments change live.
* **scan**: E_int(d) of the molecule approaching the flake, MuSE against the PaiNN baseline,
  seen from the side. Between about 6 and 12 Å MuSE's E_int is slightly *positive*: so is
  its GFN2-xTB reference there (stacked π systems repel through their quadrupoles in
  GFN2-xTB; notebook 02 shows it), and the baseline reads 0 because it cannot see that far.
* **influence**: which atoms act on a chosen atom, backbone alone against MuSE.""",
        ),
        (
            "code",
            """import muse_explore as mx
from muse_explore import widgets
from muse_explore.reference import benzene_on_graphene

atoms = benzene_on_graphene(3.4)
print(mx.list_pretrained())
explorer = widgets.explore(model="muse-painn-graphene", atoms=atoms, baseline="painn-graphene")
explorer""",
        ),
        (
            "md",
            """The same numbers without widgets: the data layer `muse_explore.explore` turns a model
output into arrays (this is what the widgets draw).""",
        ),
        (
            "code",
            """from muse_explore import explore

snap = explore.snapshots("muse-painn-graphene", atoms)[0]
print(f"total energy {snap.energy:.4f} eV; per scale (atoms, level 1, level 2):",
      snap.scale_energies.round(4))
for level in (1, 2):
    m = snap.membership(level)
    print(f"level {level}: {snap.num_nodes(level)} nodes; each atom's largest share "
          f"{m.max(axis=1).mean():.2f} on average; rows sum to {m.sum(axis=1).min():.6f}")""",
        ),
    ],
    "02_graphene_scans": [
        (
            "md",
            """# What-if scans: a molecule approaching graphene

E_int(d) = E(complex) − E(flake) − E(molecule) as the molecule's centroid moves from 2.8 to
14 Å above the flake. The PaiNN baseline sees nothing beyond its 5 Å cutoff; MuSE's coarse
levels (cutoffs 10 and 20 Å) carry the interaction further. Change the molecule, flake,
offset, rotation, tilt or range and the scan runs again at once (*scan* repeats it); move
the distance slider; untick *coarse levels* to drop them from the MuSE model; tick
*GFN2-xTB* for the reference, computed with tblite at every fifth distance (slower than the
models).

The models trained on C24H12 and C54H18 flakes. On the larger C96H24, which none of them
saw, MuSE keeps its lead from 6 Å on but loses near contact: E_int MAE 28 against the
baseline's 15 meV below 4.5 Å, 21 against 17 in all (centred scans, mean of three training
seeds; `benchmarks/flake_size.py`, benchmarks/README.md, "A larger flake than any in
training").""",
        ),
        (
            "code",
            """from muse_explore import widgets

scan = widgets.show_scan(models={"MuSE": "muse-painn-graphene", "baseline": "painn-graphene"})
scan""",
        ),
        (
            "md",
            """Scans are plain functions too: every molecule of the training set at one offset,
MuSE against the baseline, in meV, one panel per molecule and zoomed on 5–14 Å, where the
local model has gone blind and MuSE has not.

Why is E_int *positive* there for MuSE? Because its reference is. GFN2-xTB describes atoms
with dipole and quadrupole moments as well as charges; benzene and graphene both carry a
negative out-of-plane quadrupole (their π clouds), and two such quadrupoles stacked face to
face repel. In GFN2-xTB that repulsion outweighs the dispersion between about 6 and 12 Å
(benzene at 8 Å: +31 meV), while GFN1-xTB, without multipoles, stays attractive (−18 meV):
`python benchmarks/reference_bump.py` prints both. MuSE learned the reference, bump
included; the baseline shows 0 because it cannot see that far.""",
        ),
        (
            "code",
            """import numpy as np
from plotly.subplots import make_subplots
from muse_explore.explore import SCALE_COLORS, ScanSetup, interaction_curves
from muse_explore.reference.molecules import MOLECULES

names = list(MOLECULES)
fig = make_subplots(rows=1, cols=len(names), subplot_titles=names, shared_yaxes=True,
                    horizontal_spacing=0.02)
for col, name in enumerate(names, start=1):
    setup = ScanSetup(molecule=name, distances=np.linspace(5.0, 14.0, 28))
    c = interaction_curves({"MuSE": "muse-painn-graphene", "baseline": "painn-graphene"}, setup)
    for label, dash in (("MuSE", None), ("baseline", "dot")):
        color = SCALE_COLORS["total" if label == "MuSE" else "baseline"]
        fig.add_scatter(x=c["distances"], y=1000 * c[label]["e_int"], name=label, row=1, col=col,
                        line={"color": color, "dash": dash}, showlegend=col == 1)
    fig.update_xaxes(title_text="d (Å)", row=1, col=col)
    beyond = c["distances"] > 6
    print(f"{name:18s} E_int beyond 6 Å: MuSE {1000 * c['MuSE']['e_int'][beyond].min():7.1f} to "
          f"{1000 * c['MuSE']['e_int'][beyond].max():6.1f} meV, baseline "
          f"{1000 * np.abs(c['baseline']['e_int'][beyond]).max():.2f} meV")
fig.update_yaxes(title_text="E_int (meV)", row=1, col=1)
fig.update_layout(height=360)
fig""",
        ),
    ],
    "03_why_local_models_miss_long_range": [
        (
            "md",
            """# Why local models miss long range

A message-passing model with cutoff r_c and T interaction blocks passes information along
edges shorter than r_c, T hops at most: an atom's energy depends on atoms up to T·r_c away
*along chains of atoms* (its *receptive field*; PaiNN here: r_c = 5 Å, T = 3). Across empty
space there is no chain: when benzene sits 7 Å above the flake, no edge is shorter than
5 Å between them, so the backbone's energy is exactly the sum of the two fragments'
energies and E_int = 0, whatever the physics. MuSE pools atoms into coarse nodes whose graphs
have longer cutoffs (10 and 20 Å) and sends what they learn back to the atoms.

The **influence map** makes this visible: pick an atom (red); every other atom is coloured
by the norm of its Hessian block with the picked one, ‖∂²E/∂r_i∂r_j‖. Left the backbone
alone, right MuSE, on one colour scale, logarithmic over five decades below the largest
coupling (bonded neighbours left out of the scale): a coupling of 0.01 eV/Å² shows, and
white means below 10⁻⁵ of the largest, as exact zeros are.""",
        ),
        (
            "code",
            """from muse_explore import widgets
from muse_explore.reference import benzene_on_graphene

far = benzene_on_graphene(7.0)
influence = widgets.show_influence(model="muse-painn-graphene", atoms=far, atom=len(far) - 1)
influence""",
        ),
        (
            "code",
            """import numpy as np
from muse_explore.explore import influence as influence_of
from muse_explore.explore import resolve_model

model = resolve_model("muse-painn-graphene")
flake = np.arange(len(far) - 12)  # the flake's atoms come first, benzene's 12 last
for name, m in [("backbone alone", model.backbone_only()), ("MuSE", model)]:
    h = influence_of(m, far, len(far) - 1)
    print(f"{name:15s} coupling of a benzene H to the flake: max {h[flake].max():.2e} eV/Å², "
          f"{int((h[flake] > 1e-10).sum())} of {len(flake)} flake atoms above 1e-10 eV/Å²")""",
        ),
        (
            "md",
            """## Soft versus hard assignments

MuSE's assignments are *soft*: an atom shares itself among nearby coarse nodes, with
weights that change smoothly with the geometry. A *hard* assignment gives each atom to one
node, and jumps when the atom's most probable node changes. Here is what switching does to
the same trained model (no retraining: the weights learned with soft assignments are
evaluated both ways).

Where do the jumps happen? Not along a rigid approach: atoms are assigned within their own
fragment, and when benzene moves as a whole nothing changes inside either fragment, so the
soft and hard curves of a distance scan just run in parallel. Atoms change node when a
fragment *deforms*. Below, the complex moves along a straight line between two slightly
distorted geometries (every coordinate displaced by about 0.05 Å, as in a thermal snapshot),
and the plot shows E(hard) − E(soft) along it: flat while the partition holds, a step each
time an atom switches node. How often that happens depends on how close to a tie the atoms
sit: on paths like this one the shipped models jump between a quarter of a time and four
times per path (`benchmarks/soft_hard.py`), so a flat curve is possible too; the printout
counts the steps. The soft energy itself has no steps.""",
        ),
        (
            "code",
            """import copy
import plotly.graph_objects as go
from muse_explore.analysis import predict
from muse_explore.testing import interpolate, rattle

hard = copy.deepcopy(model)
hard.set_pooling(hard=True)
start = rattle(benzene_on_graphene(3.4), 0.05, seed=1)
end = rattle(benzene_on_graphene(3.4), 0.05, seed=2)
path = interpolate(start, end, 121)  # 121 frames on the straight line from start to end
t = np.linspace(0.0, 1.0, len(path))
gap = 1000 * (predict(hard, path) - predict(model, path))
fig = go.Figure(layout={"xaxis_title": "position along the path (0: start, 1: end)",
                        "yaxis_title": "E(hard) − E(soft) (meV)", "height": 380})
fig.add_scatter(x=t, y=gap, mode="lines+markers", marker={"size": 4}, name="hard − soft")
steps = np.abs(np.diff(gap))
print(f"E(hard) − E(soft) from frame to frame: median change {np.median(steps):.3f} meV, "
      f"{int((steps > 1.0).sum())} steps above 1 meV, the largest {steps.max():.1f} meV")
fig""",
        ),
        (
            "code",
            """viewer = widgets.show_assignments(model="muse-painn-graphene", atoms=benzene_on_graphene(3.4))
viewer.hard.value = "hard"  # flip back to "soft" with the toggle
viewer""",
        ),
    ],
    "04_train_your_own": [
        (
            "md",
            """# Train your own MuSE model (a small one, on this CPU)

The trainer reads the same YAML sections as `muse-explore train CONFIG.yaml` (see
docs/training.md). Here a small MuSE-PaiNN (one coarse level, 32 features) trains on 180
structures (60 complexes with their flakes and molecules, thermally distorted, near contact;
42 of the triples train, 9 validate and 9 test) for 8 epochs: a progress bar per epoch and a
live loss plot. It takes under a minute on two CPU cores, busy or not (the trainer uses
only the cores the load leaves idle; `benchmarks/notebooks.py`); the models of the training
protocol train for hours.""",
        ),
        (
            "code",
            """import tempfile
import plotly.graph_objects as go
from muse_explore.samples import repository_file
from muse_explore.training import TrainConfig, Trainer

DATA = "sample_data/data/graphene_thermal_contact.extxyz.xz"
run_dir = tempfile.mkdtemp(prefix="muse-run-")
config = TrainConfig.from_dict({
    "run_dir": run_dir,
    "seed": 0,  # num_threads unset: as many as the machine's load leaves idle
    "data": {"files": [str(repository_file(DATA))],
             "group_by": "config",
             "max_structures": 180, "val_fraction": 0.15, "test_fraction": 0.15},
    "model": {"backbone": "painn", "elements": ["H", "C", "N", "O"], "levels": 1, "hidden": 32},
    "loss": {"energy_weight": 10.0, "forces_weight": 10.0, "huber_delta": 0.05,
             "interaction_weight": 50.0},
    "optim": {"lr": 2e-3, "batch_size": 8, "epochs": 8, "warmup_steps": 10},
})
curve = go.FigureWidget(layout={"xaxis_title": "epoch", "yaxis_title": "loss",
                                "yaxis_type": "log", "height": 320})
curve.add_scatter(x=[], y=[], name="train", mode="lines+markers")
curve.add_scatter(x=[], y=[], name="validation", mode="lines+markers")

def plot(row):
    with curve.batch_update():
        for trace, key in zip(curve.data, ("train_loss", "val_loss"), strict=True):
            trace.x = list(trace.x) + [row["epoch"]]
            trace.y = list(trace.y) + [row[key]]

curve""",
        ),
        (
            "code",
            """trainer = Trainer(config, callbacks=[plot])
summary = trainer.fit()
trainer.close()
print({k: v for k, v in summary.items() if k != "test"})
print("test set:", {k: round(v, 2) for k, v in summary["test"].items() if isinstance(v, float)})""",
        ),
        (
            "md",
            """The run folder holds `best_model.pt`, `metrics.csv`, `splits.json` and the checkpoints;
`--resume` (or `Trainer(config, resume=True)`) continues a killed run exactly. Load the
model and look at it like any other:""",
        ),
        (
            "code",
            """import muse_explore as mx
from muse_explore import widgets
from muse_explore.reference import benzene_on_graphene

mine = mx.load_model(f"{run_dir}/best_model.pt")
widgets.show_energies(model=mine, atoms=benzene_on_graphene(3.4))""",
        ),
    ],
    "05_folding": [
        (
            "md",
            """# A peptide trajectory with its coarse nodes

Ac-(Ala)6-NHMe from a GFN2-xTB Langevin run at 600 K that starts from the α-helix (run 3
of the peptide set of `sample_data/`: the shipped peptide models' test split, which none of
them trained on), with the pretrained `muse-painn-peptide` model: the coarse nodes follow
the chain as it moves. The frame slider walks the trajectory; the chart below shows the
per-scale energies against the MD step (the atom scale and the total relative to the first
frame; the current frame dotted).""",
        ),
        (
            "code",
            """import ipywidgets
from muse_explore import widgets
from muse_explore.samples import repository_file
from muse_explore.training.dataset import read_structures

frames = [a for a in read_structures([repository_file("sample_data/data/peptide.extxyz.xz")])
          if a.info["run"] == 3][::4]  # a test run
print(len(frames), "frames of", len(frames[0]), "atoms; start:", frames[0].info["start"])
viewer = widgets.show_assignments(model="muse-painn-peptide", trajectory=frames, level=1)
energies = widgets.show_energies(viewer=viewer)
ipywidgets.VBox([viewer, energies])""",
        ),
        (
            "code",
            """from muse_explore.analysis.peptide import (
    count_backbone_hbonds, end_to_end_distance, radius_of_gyration)
from muse_explore.explore import snapshots

snaps = snapshots("muse-painn-peptide", frames)
for i in range(0, len(frames), 5):
    a, s = frames[i], snaps[i]
    print(f"frame {i:2d}: end-to-end {end_to_end_distance(a):5.2f} Å, Rg "
          f"{radius_of_gyration(a):4.2f} Å, H-bonds {count_backbone_hbonds(a)}, "
          f"coarse energy {1000 * s.scale_energies[1:].sum():7.1f} meV, "
          f"GFN2-xTB − MuSE {1000 * (a.get_potential_energy() - s.energy) / len(a):6.2f} meV/atom")""",
        ),
        (
            "md",
            """## MuSE's own MD: a longer chain

A longer peptide, Ac-(Ala)15-NHMe (162 atoms), from the extended β strand: one picosecond of
Langevin MD at 300 K with the same model, run right here (1,000 steps; 44–97 ms each on one
CPU core, quiet or busy, `benchmarks/folding.py --speed`). `PeptideLangevin`
is resumable: `md.state()` is a JSON-ready snapshot from which a new object continues the
same trajectory, which is how `benchmarks/folding.py` runs 100 ps per model and seed over
several sessions and tracks whether each model folds the helix (results in
`benchmarks/README.md`; the first seed of each model has run, the others are under way).
Those runs met something else first: a chain from the strand forms γ turns (C7eq, φ, ψ
about −83°, 69°: the N–H after a residue bonded to the C=O before it), and models whose
training data held no chains of them can bind each one too strongly and walk into a ribbon
of them, whatever their reach. The shipped MuSE model's first run stayed a strand because
that seed happens to bind the all-C7 chain about right (52 meV off at worst, against 567
and 132 meV for its other two seeds, `benchmarks/conformers.py`), not because of its coarse
levels. The `peptide-c7` set of such chains (`docs/experiments.md`) joined the peptide
training data after these models were trained; models retrained with it are under way.
`c7_fraction` counts them as `helix_fraction` counts the helix. Here, watch the level-1 nodes: each stays on its
stretch of backbone while the chain moves.""",
        ),
        (
            "code",
            """import torch
import muse_explore as mx
from muse_explore.analysis.peptide import c7_fraction, helix_fraction
from muse_explore.reference.peptide import PeptideLangevin, alanine_peptide

torch.set_num_threads(1)
calc = mx.load_pretrained("muse-painn-peptide")
md = PeptideLangevin(alanine_peptide(15), calc, temperature=300.0, seed=0)
run = md.run(1000, sample_every=50)  # 1 ps at 1 fs, a frame every 50 fs
first, last = run[0], run[-1]
print(f"{len(run)} frames of {len(last)} atoms, to {last.info['md_step'] / 1000:.1f} ps: "
      f"end-to-end {end_to_end_distance(first):.1f} -> {end_to_end_distance(last):.1f} Å, "
      f"helix content {helix_fraction(first):.2f} -> {helix_fraction(last):.2f}, "
      f"C7eq {c7_fraction(first):.2f} -> {c7_fraction(last):.2f}, "
      f"backbone H-bonds {count_backbone_hbonds(first)} -> {count_backbone_hbonds(last)}")
chain = widgets.show_assignments(model="muse-painn-peptide", trajectory=run, level=1)
ipywidgets.VBox([chain, widgets.show_energies(viewer=chain)])""",
        ),
    ],
}


def main() -> None:
    """Write every notebook of :data:`NOTEBOOKS` (without outputs)."""
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook()
        nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                     "name": "python3"}  # fmt: skip
        nb.cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src)
                    for kind, src in cells]  # fmt: skip
        for k, cell in enumerate(nb.cells):  # stable ids: a regenerated file differs only
            cell.id = f"{name[:2]}-cell-{k:02d}"  # where its cells do
        nbformat.write(nb, HERE / f"{name}.ipynb")
        print("wrote", HERE / f"{name}.ipynb")


if __name__ == "__main__":
    main()
