"""talkwatch: watch the news about the Gaza hostage negotiations in a terminal."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/talkwatch/talkwatch"
