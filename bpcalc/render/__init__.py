"""Renderers: turn results into what users see (tables, JSON, pictures, prose).

Nothing here computes a derivative; everything comes from `bpcalc.api` results.
"""
