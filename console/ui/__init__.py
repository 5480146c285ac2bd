"""Qt widgets for the operator console. Renders state and forwards intent; nothing else."""
