"""The built-in, offline scan engine: image unpack, inventory, vulnerability DB, matching,
policy."""
