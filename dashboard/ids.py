"""Every component id of the dashboard, prefixed by its page (house style)."""

# app shell
URL = "app-url"
PAGE = "app-page"

# wall screen
WALL_ROOT = "wall-root"
WALL_COP_GRAPH = "wall-cop-graph"
WALL_TILT_GRAPH = "wall-tilt-graph"
WALL_LIGHTS = "wall-device-lights"
WALL_BANNER = "wall-connection-banner"
WALL_CLOCK = "wall-clock"
