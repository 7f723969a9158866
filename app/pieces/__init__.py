"""Pieces: the catalogue of published pieces the server ships, a platform's own pieces and its tags."""
