"""Recommendations: interactions -> item embeddings -> Annoy index -> strategies.

Pure maths (numpy) lives in ``interactions``, ``embeddings``, ``scoring``, ``strategies`` and
``evaluate``; ``annoy_index`` wraps the Annoy file; ``model_store`` is the S3 adapter.
Heavy dependencies (numpy, annoy) are imported only from this package.
"""
