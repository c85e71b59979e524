"""Certified reduced basis."""
