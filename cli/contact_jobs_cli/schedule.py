"""The next run of an EventBridge Scheduler expression: ``cron(min hour day-of-month month day-of-week year)``
with numbers, names, ``*``, ``?``, ranges, lists and steps; ``rate(...)`` and ``at(...)`` have no next run
the CLI can know (None). ``L``, ``W`` and ``#`` are not computed either (None), never guessed."""

from datetime import datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
MONTHS = {name: i + 1 for i, name in enumerate(MONTH_NAMES)}
DAYS = {
    name: i + 1 for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))
}  # AWS: 1 = Sunday


FIELD_RANGES: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, MONTHS), (1, 7, DAYS), (1970, 2199, {}),
)  # fmt: skip


def _values(field: str, low: int, high: int, names: dict[str, int]) -> set[int] | None:
    if any(mark in field for mark in "LW#"):
        return None
    found: set[int] = set()
    for part in field.upper().split(","):
        spec, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if spec in ("*", "?"):
            first, last = low, high
        elif "-" in spec:
            a, b = spec.split("-", 1)
            first, last = names.get(a) or int(a), names.get(b) or int(b)
        else:
            first = names.get(spec) or int(spec)
            last = high if step_text else first
        found.update(range(first, last + 1, step))
    return found


def next_run(expression: str, timezone: str = "UTC", now: datetime | None = None) -> datetime | None:
    if not expression.startswith("cron(") or not expression.endswith(")"):
        return None
    fields = expression[5:-1].split()
    if len(fields) != 6:
        return None
    try:
        zone = ZoneInfo(timezone or "UTC")
        parsed = [
            _values(field, low, high, names)
            for field, (low, high, names) in zip(fields, FIELD_RANGES, strict=True)
        ]
    except (ValueError, KeyError):
        return None
    if any(values is None for values in parsed):
        return None
    minutes, hours, days, months, weekdays, years = cast(list[set[int]], parsed)
    local = (now or datetime.now(zone)).astimezone(zone).replace(second=0, microsecond=0) + timedelta(
        minutes=1
    )
    day = local.replace(hour=0, minute=0)
    for _ in range(366 * 5):
        weekday = day.isoweekday() % 7 + 1  # Sunday = 1
        if day.year in years and day.month in months and day.day in days and weekday in weekdays:
            for hour in sorted(hours):
                for minute in sorted(minutes):
                    candidate = day.replace(hour=hour, minute=minute)
                    if candidate >= local:
                        return candidate
        day += timedelta(days=1)
    return None
