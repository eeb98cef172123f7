"""Authenticators: ``local`` (passwords on one machine) and ``oidc`` (institutional sign-in)."""
