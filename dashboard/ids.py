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

# sign-in
LOGIN_USER = "login-user"
LOGIN_PASSWORD = "login-password"
LOGIN_SUBMIT = "login-submit"
LOGIN_MESSAGE = "login-message"

# remote
REMOTE_ROOT = "remote-root"
REMOTE_ROOM = "remote-room"
REMOTE_FEEDBACK = "remote-feedback"
REMOTE_LIGHTS = "remote-device-lights"
REMOTE_BANNER = "remote-connection-banner"
REMOTE_REP_PLUS = "remote-rep-plus"
REMOTE_REP_MINUS = "remote-rep-minus"
REMOTE_EXERCISE = "remote-exercise"
REMOTE_SURFACE = "remote-surface"
REMOTE_SUPPORT = "remote-support"
REMOTE_PLANNED = "remote-planned"
REMOTE_QUALITY = "remote-quality"
REMOTE_SET_START = "remote-set-start"
REMOTE_SET_END = "remote-set-end"
REMOTE_TAG = "remote-tag"
REMOTE_NOTE = "remote-note"
REMOTE_NOTE_ADD = "remote-note-add"
REMOTE_CHILD = "remote-child"
REMOTE_SESSION_START = "remote-session-start"
REMOTE_SESSION_END = "remote-session-end"
WALL_COUNT = "wall-rep-count"
WALL_GAUGE = "wall-steadiness-gauge"
