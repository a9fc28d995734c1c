"""The build node (DESIGN §5.1): git sources, push intake, build rules, tag composition, and the
buildah engine that turns one commit into one multi-platform OCI index in this registry.

Subprocess calls to git and buildah live here and nowhere else.
"""
