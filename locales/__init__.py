"""Babel catalogs (messages.pot, vi and en). Compiled .mo files are build output."""
