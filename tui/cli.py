"""Command line entry point (placeholder until the CLI lands)."""


def main(argv=None) -> int:
    print("talkwatch: not built yet")
    return 0
