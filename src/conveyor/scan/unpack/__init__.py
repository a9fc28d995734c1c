"""Reading image layers: decompression, tar streaming, whiteouts, and a private file tree."""
