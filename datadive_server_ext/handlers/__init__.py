"""Route modules of the server extension; each exports ``routes = [(pattern, Handler), ...]``
with patterns relative to ``<base_url>datadive/``."""
