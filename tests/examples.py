"""Facts about the project's example behaviors shared by several test modules."""

from __future__ import annotations

# The six example behaviors of include/behaviors/, in file-name order.
EXAMPLE_BEHAVIORS = (
    "cart_abandoners",
    "comfort_seekers",
    "loyal_regulars",
    "quality_enthusiasts",
    "trend_followers",
    "value_hunters",
)
