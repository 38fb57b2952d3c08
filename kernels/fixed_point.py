"""Bit widths of the Akida 1.0 datapath (integers, no units).

Sources: ../shared/reference/akida_v1_semantics.md §4, §6 and §7 (observed).
"""
#: Potentials are saturated to 20-bit signed before max pooling, in the
#: global sum pooling and at the end of a fully connected sum.
SATURATION_BITS = 20
POTENTIAL_MIN = -(2 ** (SATURATION_BITS - 1))
POTENTIAL_MAX = 2 ** (SATURATION_BITS - 1) - 1
#: The activation step is held as an integer number of 1/16 units.
STEP_FRACTION_BITS = 4
#: The step and the activation numerator are held in 28-bit fields
#: (observed: a step with floor(16 s) a multiple of 2**28 divides by zero).
STEP_FIELD_BITS = 28
