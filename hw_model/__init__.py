"""Pure-Python hardware model of the AKD1000 mapper (no dependency on akida or akida_sim).

- :mod:`hw_model.mesh`: NP types, slots, mesh, ``akd1000()``.
- :mod:`hw_model.layer_spec`: ``LayerSpec``, a neutral layer description.
- :mod:`hw_model.mapping`: ``map_layers()`` (sequences, NPs, design rules).
- :mod:`hw_model.program`: program size model.
- :mod:`hw_model.costs`, :mod:`hw_model.cost_table`: clocks/energy pricing (see those modules).
"""
from .layer_spec import LayerSpec, make_spec
from .mapping import (MappingError, ModelMapping, LayerMapping, NPAlloc, SequenceMapping, Violation,
                      check_layer, map_layers, RULES)
from .mesh import Mesh, MapLimits, NPSlot, NPType, SramSize, akd1000, make_mesh

__all__ = [
    "LayerSpec", "make_spec", "MappingError", "ModelMapping", "LayerMapping", "NPAlloc", "SequenceMapping",
    "Violation", "check_layer", "map_layers", "RULES", "Mesh", "MapLimits", "NPSlot", "NPType", "SramSize",
    "akd1000", "make_mesh",
]
