"""Numba-compiled integer kernels of the Akida 1.0 datapath.

Pure functions over NumPy arrays (NHWC, uint8 activations, int8 weights,
int32 potentials). They know nothing of the model API and trust their
callers: every array handed to a kernel has been validated at the API
boundary (Numba does not bounds-check).
"""
