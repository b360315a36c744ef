"""Ingestion: read articles, clean them, chunk them, embed them and store a FAISS index on disk."""
