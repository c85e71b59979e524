"""Nonlinear solid mechanics: material laws and a quasi-static finite-element solver."""
