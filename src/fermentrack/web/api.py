"""The HTTP API (OpenAPI at /api/openapi.json): each app adds its router here."""

from ninja import NinjaAPI
from ninja.errors import ValidationError

from fermentrack import __version__

api = NinjaAPI(
    title="Fermentrack API",
    version=__version__,
    description="Controllers post log points and status here; scripts read graphs and state.",
    urls_namespace="api",
)


@api.exception_handler(ValidationError)
def readable_validation_error(request, exc: ValidationError):
    """400 with one line per invalid field: `points[3].ts: expected an integer ..., got "abc"`."""
    errors = describe_validation_errors(exc.errors)
    return api.create_response(request, {"detail": "; ".join(errors), "errors": errors}, status=400)


def describe_validation_errors(errors: list[dict]) -> list[str]:
    return [f"{_field_path(error['loc'])}: {_expectation(error)}" for error in errors]


def _field_path(loc: tuple) -> str:
    source, *parts = loc
    if source == "body" and parts:
        parts = parts[1:]  # the operation's body parameter, not a field the client sent
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or source


_EXPECTED_BY_TYPE = {
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "int_from_float": "expected an integer",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "finite_number": "expected a finite number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "string_type": "expected a string",
    "list_type": "expected a list",
    "model_type": "expected an object",
    "model_attributes_type": "expected an object",
    "dict_type": "expected an object",
    "missing": "required, but missing",
}


def _expectation(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in _EXPECTED_BY_TYPE:
        return _EXPECTED_BY_TYPE[kind]
    if kind == "too_long":
        return f"expected at most {ctx['max_length']} items, got {ctx['actual_length']}"
    if kind == "too_short":
        return f"expected at least {ctx['min_length']} items, got {ctx['actual_length']}"
    if kind == "string_too_long":
        return f"expected at most {ctx['max_length']} characters"
    if kind == "string_too_short":
        return f"expected at least {ctx['min_length']} characters"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = next(iter(ctx.values()))
        words = {
            "greater_than_equal": "at least",
            "greater_than": "more than",
            "less_than_equal": "at most",
            "less_than": "less than",
        }
        return f"expected {words[kind]} {bound}"
    if kind in ("literal_error", "enum"):
        return f"expected {ctx['expected']}"
    # Our own validators already word their messages as "expected ..., got ...".
    return error["msg"].removeprefix("Value error, ")


api.add_router("controller/", "fermentrack.web.devices.api.router")
api.add_router("", "fermentrack.web.beers.api.router")
api.add_router("gravity/", "fermentrack.web.gravity.api.router")
