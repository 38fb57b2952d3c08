"""Pure-Python hardware model of the AKD1000 mapper (no dependency on akida or akida_sim).

- :mod:`hw_model.mesh`: NP types, slots, mesh, ``akd1000()``.
- :mod:`hw_model.layer_spec`: ``LayerSpec``, a neutral layer description.
- :mod:`hw_model.mapping`: ``map_layers()``, running :mod:`~hw_model.capacity` (what fits an NP),
  :mod:`~hw_model.rules` (design rules), :mod:`~hw_model.allocation` (how NPs are dealt to
  layers) and :mod:`~hw_model.sequences` (where sequences are cut); results in
  :mod:`~hw_model.mapped`.
- :mod:`hw_model.program`: program size model.
- :mod:`hw_model.costs`, :mod:`hw_model.cost_table`: the cost model (counts priced into clocks,
  time, power and energy) and its prices; :mod:`hw_model.host`: host profiles (the host's part of a
  call, cold and warm); :mod:`hw_model.published`: the published on-chip runs;
  :mod:`hw_model.calibration`: fit and leave-one-out validation (see ``docs/cost_model.md``).
"""
from .layer_spec import LayerSpec, make_spec
from .mapped import LayerMapping, MappingError, ModelMapping, NPAlloc, PassMapping, SequenceMapping, Violation
from .mapping import map_layers
from .rules import RULES, check_layer
from .mesh import Mesh, MapLimits, NPSlot, NPType, SramSize, akd1000, make_mesh

__all__ = [
    "LayerSpec", "make_spec", "MappingError", "ModelMapping", "LayerMapping", "NPAlloc", "PassMapping",
    "SequenceMapping",
    "Violation", "check_layer", "map_layers", "RULES", "Mesh", "MapLimits", "NPSlot", "NPType", "SramSize",
    "akd1000", "make_mesh",
]
