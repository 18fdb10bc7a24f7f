"""The Textual dashboard. The only package in talkwatch that imports Textual."""

from tui.dashboard.app import TalkwatchApp, create_app, run_dashboard

__all__ = ["TalkwatchApp", "create_app", "run_dashboard"]
