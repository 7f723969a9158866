"""One place that imports every domain's ORM models, so `Base.metadata` knows every table."""


def import_all_models() -> None:
    import app.admin.models
    import app.flows.models
    import app.global_connections.models
    import app.platforms.models
    import app.projects.models  # noqa: F401
