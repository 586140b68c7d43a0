"""Deep spatiotemporal clustering (DSC) of gridded climate data, with its baselines."""
