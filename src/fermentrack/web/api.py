"""The HTTP API (OpenAPI at /api/openapi.json): each app adds its router here."""

from ninja import NinjaAPI

from fermentrack import __version__

api = NinjaAPI(
    title="Fermentrack API",
    version=__version__,
    description="Controllers post log points and status here; scripts read graphs and state.",
    urls_namespace="api",
)
