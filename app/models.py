"""One place that imports every domain's ORM models, so `Base.metadata` knows every table. The admin
API's own tables (`app/admin/models.py`) sit above the domains: it and the migrations import them."""


def import_all_models() -> None:
    import app.app_connections.models
    import app.flows.models
    import app.folders.models
    import app.global_connections.models
    import app.invitations.models
    import app.pieces.models
    import app.platforms.models
    import app.projects.models  # noqa: F401
