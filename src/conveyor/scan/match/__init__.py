"""Matching inventory packages against the vulnerability database."""
