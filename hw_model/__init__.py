"""Hardware model of the AKD1000 mesh (see its modules)."""
