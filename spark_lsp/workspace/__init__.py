"""workspace stage."""
