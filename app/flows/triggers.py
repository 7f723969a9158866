"""`triggerSource` of an enabled flow: the schedule a schedule-piece trigger runs on."""

from __future__ import annotations

from typing import Any

SCHEDULE_PIECE = "@activepieces/piece-schedule"
DEFAULT_TIMEZONE = "UTC"
_WEEKDAYS = "1-5"


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def cron_of(trigger_name: str, given: dict[str, Any]) -> str | None:
    """The cron expression of the schedule piece's triggers, as the piece computes it."""
    hour = _int(given.get("hour_of_the_day"), 0)
    if trigger_name == "cron_expression":
        expression = given.get("cronExpression")
        return expression if isinstance(expression, str) and expression.strip() else None
    if trigger_name == "every_x_minutes":
        return f"*/{_int(given.get('minutes'), 1)} * * * *"
    if trigger_name == "every_hour":
        return "0 * * * *" if given.get("run_on_weekends", True) else f"0 * * * {_WEEKDAYS}"
    if trigger_name == "every_day":
        return f"0 {hour} * * *" if given.get("run_on_weekends", True) else f"0 {hour} * * {_WEEKDAYS}"
    if trigger_name == "every_week":
        return f"0 {hour} * * {_int(given.get('day_of_the_week'), 1)}"
    if trigger_name == "every_month":
        return f"0 {hour} {_int(given.get('day_of_the_month'), 1)} * *"
    return None


def trigger_source(trigger: dict[str, Any]) -> dict[str, Any]:
    """What an enabled flow shows as `triggerSource`: the schedule for the schedule piece's
    triggers, `{"schedule": null}` for any other trigger (this server runs no pieces, so it cannot
    tell a polling trigger's strategy)."""
    settings = trigger.get("settings") or {}
    if trigger.get("type") != "PIECE_TRIGGER" or settings.get("pieceName") != SCHEDULE_PIECE:
        return {"schedule": None}
    given = settings.get("input") or {}
    cron = cron_of(str(settings.get("triggerName")), given)
    if cron is None:
        return {"schedule": None}
    timezone = given.get("timezone")
    return {
        "schedule": {
            "type": "CRON_EXPRESSION",
            "cronExpression": cron,
            "timezone": timezone if isinstance(timezone, str) and timezone else DEFAULT_TIMEZONE,
        }
    }
