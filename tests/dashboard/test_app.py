"""Pilot tests: every key, live arrival, filtering, hot reload, hostile text."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rich.text import Text

from .conftest import NOW, fixed_clock
from .helpers import FakePoller, cell_titles, row_is_bold, row_text, settle, shown_titles
from tui.dashboard.app import create_app
from tui.dashboard.detail import DetailScreen
from tui.dashboard.help import HelpScreen
from tui.dashboard.messages import FeedPolled, StatusComputed
from tui.models import FeedPollResult, Item, Verdict
from tui.status import TalksState, TalksStatus
from tui.store import ItemQuery

RELEVANT_NEWEST_FIRST = [
    "Negotiators in Doha report progress on hostage deal framework",
    "Hamas reviewing new ceasefire proposal delivered by Egypt",
    "Talks stall over withdrawal maps, officials say",
    "Red Cross prepares for possible hostage handover",
    "Mediators meet in Cairo as pressure mounts for a truce",
    "Families of hostages rally in Tel Aviv urging a deal",
]


def make(config, store, **kwargs):
    return create_app(config, store, clock=fixed_clock, **kwargs)


def cursor_title(app) -> str:
    return app.query_one("#headlines").highlighted_item().title


async def test_startup_shows_stored_relevant_items_newest_first(config, store):
    app = make(config, store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert shown_titles(app) == RELEVANT_NEWEST_FIRST
        cells = cell_titles(app)
        assert cells[0].endswith("…") and RELEVANT_NEWEST_FIRST[0].startswith(cells[0][:-1])
        assert row_text(app, 0).plain.startswith("●  4m  Doha Wire ")


async def test_a_toggles_relevant_and_all(config, store):
    app = make(config, store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        titles = shown_titles(app)
        assert len(titles) == 8
        assert any(t.startswith("Port strike") for t in titles)
        await pilot.press("a")
        await settle(pilot)
        assert len(shown_titles(app)) == 6


async def test_s_cycles_the_signal_filter(config, store):
    app = make(config, store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        counts = []
        for _ in range(7):
            await pilot.press("s")
            await settle(pilot)
            counts.append((app.view.signal, len(shown_titles(app))))
        assert counts == [
            ("deal", 0), ("release", 0), ("progress", 2), ("proposal", 1),
            ("stalled", 1), ("collapse", 0), (None, 6),
        ]


async def test_number_keys_pick_a_source_and_zero_clears(config, store):
    app = make(config, store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert app.view.source == "Cairo Bulletin"
        assert {app.query_one("#headlines").items_by_id[i].feed for i in app.query_one("#headlines").items_by_id} == {"Cairo Bulletin"}
        assert len(shown_titles(app)) == 2
        await pilot.press("9")  # no 9th source: nothing changes
        await settle(pilot)
        assert app.view.source == "Cairo Bulletin"
        await pilot.press("0")
        await settle(pilot)
        assert app.view.source is None and len(shown_titles(app)) == 6


async def test_filter_line_narrows_as_you_type_and_escape_clears(config, store):
    app = make(config, store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        assert app.focused.id == "filter"
        counts = []
        for key in "tal":  # "t" matches most words, "talks" fewer
            await pilot.press(key)
            await settle(pilot)
            counts.append(len(shown_titles(app)))
        assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1] == 1
        assert shown_titles(app) == ["Talks stall over withdrawal maps, officials say"]
        await pilot.press("escape")
        await settle(pilot)
        assert len(shown_titles(app)) == 6
        assert app.focused.id == "headlines"
        assert not app.query_one("#filter-row").has_class("-active")


FILTER_CASES = [
    ("cairo", 2),  # FTS over title and summary: one title and one summary say Cairo
    ("signal:stalled", 1),
    ("signal:prog", 2),
    ("source:doha", 2),
    ('source:"levant ledger"', 2),
    ("since:1h", 2),
    ("hostage source:levant", 1),
    ("source:nosuchsource", 0),
    ("since:soon", 6),  # not a duration: reported, ignored
]


async def test_filter_tokens(config, store):
    app = make(config, store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        bar = app.query_one("#filter")
        got = []
        for typed, _ in FILTER_CASES:
            bar.value = typed  # the same Input.Changed path as typing, minus the keystroke cost
            await settle(pilot)
            got.append((typed, len(shown_titles(app))))
        assert got == FILTER_CASES
        assert "not a duration" in str(bar.border_subtitle)


async def test_j_k_and_arrows_move_and_the_detail_follows(config, store):
    app = make(config, store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert cursor_title(app) == RELEVANT_NEWEST_FIRST[0]
        await pilot.press("j", "j")
        assert cursor_title(app) == RELEVANT_NEWEST_FIRST[2]
        await pilot.press("k")
        assert cursor_title(app) == RELEVANT_NEWEST_FIRST[1]
        await pilot.press("down", "down", "up")
        assert cursor_title(app) == RELEVANT_NEWEST_FIRST[2]
        detail = app.query_one("#detail-body").render()
        assert RELEVANT_NEWEST_FIRST[2] in str(detail)
        assert "negotiations, stalled" in str(detail)  # the matched terms: why it is here


async def test_enter_opens_the_detail_and_marks_read(config, store):
    app = make(config, store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.item.title == RELEVANT_NEWEST_FIRST[0]
        assert "https://example.org/doha/4" in str(app.screen.query_one("#detail-full").render())
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)
        unread = store.query(ItemQuery(unread_only=True, relevant_only=True))
        assert RELEVANT_NEWEST_FIRST[0] not in [i.title for i in unread]


async def test_o_opens_only_http_links_in_a_thread(config, store):
    store.upsert_items("Doha Wire", [(
        Item(feed="Doha Wire", key="js", title="Hostage talks item with a javascript link", summary="",
             link="javascript:alert(1)", published=NOW),
        Verdict(relevant=True, score=3.0, signal="progress", matched=("talks",)),
    )])
    opened = []
    app = make(config, store)
    app.open_url = opened.append
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert cursor_title(app).startswith("Hostage talks item with a javascript")
        await pilot.press("o")
        await settle(pilot)
        assert opened == []
        await pilot.press("j", "o")
        await settle(pilot)
        assert opened == ["https://example.org/doha/4"]


async def test_m_toggles_read_and_M_marks_all_shown(config, store):
    app = make(config, store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        assert row_text(app, 0).plain.startswith("●") and row_is_bold(app, 0)
        await pilot.press("m")
        await settle(pilot)
        assert row_text(app, 0).plain.startswith(" ") and not row_is_bold(app, 0)
        assert len(store.query(ItemQuery(unread_only=True, relevant_only=True))) == 5
        await pilot.press("m")
        await settle(pilot)
        assert len(store.query(ItemQuery(unread_only=True, relevant_only=True))) == 6
        await pilot.press("M")
        await settle(pilot)
        assert store.query(ItemQuery(unread_only=True, relevant_only=True)) == []
        assert len(store.query(ItemQuery(unread_only=True))) == 2  # the irrelevant ones were not shown


async def test_star_toggles(config, store):
    app = make(config, store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("asterisk")
        await settle(pilot)
        assert [i.title for i in store.query(ItemQuery(starred_only=True))] == [RELEVANT_NEWEST_FIRST[0]]
        assert row_text(app, 0).plain.startswith("★")
        await pilot.press("asterisk")
        await settle(pilot)
        assert store.query(ItemQuery(starred_only=True)) == []


async def test_r_polls_now_with_force(config, store):
    poller = FakePoller()
    app = make(config, store, poller=poller)
    async with app.run_test(size=(140, 40)) as pilot:
        await poller.polled.wait()
        assert poller.calls == [False]  # the start-up poll: due feeds only
        poller.polled.clear()
        await pilot.press("r")
        await poller.polled.wait()
        assert poller.calls == [False, True]
        assert poller.on_result == app.poller_callback
    assert poller.closed


async def test_question_mark_shows_help_and_escape_closes(config, store):
    app = make(config, store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = app.screen.keys_for
        assert keys["toggle_relevant"] == "a" and keys["filter"] == "/"
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_q_quits_with_exit_code_zero(config, store):
    app = make(config, store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0
    assert not app.is_running


async def test_live_arrival_goes_on_top_and_the_cursor_stays_on_its_story(config, store):
    app = make(config, store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("j", "j")
        reading = cursor_title(app)
        store.upsert_items("Cairo Bulletin", [(
            Item(feed="Cairo Bulletin", key="live-1", title="Breaking: hostage release deal signed in Cairo",
                 summary="", link="https://example.org/live", published=NOW - timedelta(minutes=1)),
            Verdict(relevant=True, score=4.0, signal="deal", matched=("deal signed",)),
        )])
        app.post_message(FeedPolled(FeedPollResult(feed="Cairo Bulletin", outcome="ok", status=200, new_items=1), 1, 4))
        await settle(pilot)
        titles = shown_titles(app)
        assert titles[0].startswith("Breaking: hostage release deal signed")
        assert len(titles) == 7
        assert cursor_title(app) == reading
        assert app.query_one("#headlines").cursor_row == 3
        assert app.query_one("#sources").border_subtitle.endswith("polling 1/4")


async def test_state_change_updates_banner_and_notifies(config, store):
    app = make(config, store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        app._notifications.clear()
        app.post_message(StatusComputed(TalksStatus(state=TalksState.ACTIVE_TALKS, since=NOW - timedelta(hours=3), confidence=2)))
        await pilot.pause()
        assert not list(app._notifications)
        app.post_message(StatusComputed(TalksStatus(state=TalksState.STALLED, since=NOW, confidence=1)))
        await pilot.pause()
        titles = [n.title for n in app._notifications]
        assert "Talks: ACTIVE TALKS -> STALLED" in titles  # through the alert engine
        banner = str(app.query_one("#banner-text").render())
        assert "STALLED" in banner and "was ACTIVE TALKS" in banner and "unconfirmed" in banner


async def test_hot_reload_valid_edit_adds_a_feed_and_reconfigures(config, config_path, store):
    poller = FakePoller()
    app = make(config, store, poller=poller, config_path=config_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        text = config_path.read_text() + '\n[[feed]]\nname = "Gulf Dispatch"\nurl = "http://127.0.0.1:9/gulf.xml"\n'
        config_path.write_text(text)
        assert app.check_config()
        await settle(pilot)
        assert [f.name for f in app.config.feeds][-1] == "Gulf Dispatch"
        assert poller.reconfigured and poller.reconfigured[-1] is app.config
        assert "Gulf Dispatch" in app.query_one("#sources").plain
        assert any("reloaded" in n.message for n in app._notifications)
        assert not app.check_config()  # unchanged file: no reload


async def test_hot_reload_invalid_edit_keeps_config_and_shows_line(config, config_path, store):
    app = make(config, store, config_path=config_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        lines = config_path.read_text().splitlines()
        lines.insert(2, "intervall = 5")  # line 3: a typo
        config_path.write_text("\n".join(lines) + "\n")
        assert app.check_config()
        await settle(pilot)
        assert app.config is config
        error = app.query_one("#config-error")
        assert error.display
        assert "feeds.toml:3" in str(error.render())
        assert any(n.severity == "error" and "feeds.toml:3" in n.message for n in app._notifications)
        # fixing it clears the error
        config_path.write_text("\n".join(l for l in lines if not l.startswith("intervall")) + "\n")
        assert app.check_config()
        await settle(pilot)
        assert not error.display


HOSTILE = [
    "[bold red]x[/] hostage talks",
    "[@click=app.quit]y[/] hostage talks",
    "\x1b[31mescape\x1b[0m hostage talks \x1b]8;;http://evil\x07",
]


async def test_markup_looking_headlines_display_literally_and_do_nothing(config, store):
    store.upsert_items("Doha Wire", [
        (Item(feed="Doha Wire", key=f"h{i}", title=title, summary=title, link="https://example.org/h",
              published=NOW - timedelta(seconds=30 + i)),
         Verdict(relevant=True, score=3.0, signal="progress", matched=("[b]talks[/b]",)))
        for i, title in enumerate(HOSTILE)
    ])
    app = make(config, store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        titles = cell_titles(app)
        assert titles[0] == "[bold red]x[/] hostage talks"
        assert titles[1] == "[@click=app.quit]y[/] hostage talks"
        assert "\x1b" not in titles[2] and "escape" in titles[2]
        screen_text = app.export_screenshot()
        assert "[bold red]x[/]" in screen_text.replace("&#160;", " ")
        # Clicking the headline (and the detail text) must not run the embedded action.
        await pilot.click("#headlines", offset=(50, 3))  # highlights the 2nd row
        await pilot.click("#headlines", offset=(50, 2))  # and back to the 1st
        await pilot.click("#detail-body", offset=(2, 0))
        await settle(pilot)
        assert app.is_running
        await pilot.press("j", "enter")  # the full story, clicked on too
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert "[@click=app.quit]y[/]" in str(app.screen.query_one("#detail-full").render())
        await pilot.click("#detail-full", offset=(2, 0))
        await pilot.press("escape")
        await settle(pilot)
        assert app.is_running
        detail = str(app.query_one("#detail-body").render())
        assert app.query_one("#headlines").highlighted_item().title in detail and "[b]talks[/b]" in detail
        app.action_open_link()
        await settle(pilot)
        assert app.is_running


async def test_narrow_terminal_hides_side_panels(config, store):
    app = make(config, store)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert not app.query_one("#sources").display or app.query_one("#sources").region.width == 0
        assert app.query_one("#detail").region.height == 0
        assert len(shown_titles(app)) == 6
        table = app.query_one("#headlines")
        assert table.region.right <= 80


async def test_command_palette_lists_jump_to_source(config, store):
    app = make(config, store)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        from tui.dashboard.app import TalkwatchCommands

        provider = TalkwatchCommands(app.screen)
        names = [name for name, _, _ in provider._commands()]
        assert "Jump to source: Levant Ledger" in names
        callback = dict((n, c) for n, _, c in provider._commands())["Jump to source: Levant Ledger"]
        callback()
        await settle(pilot)
        assert app.view.source == "Levant Ledger" and len(shown_titles(app)) == 2


async def test_hot_reload_topic_change_reclassifies(config, config_path, store):
    app = make(config, store, config_path=config_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        config_path.write_text(config_path.read_text() + '\n[topic]\nexclude = ["Doha"]\n')
        assert app.check_config()
        await settle(pilot)
        assert app.config.topic.exclude == ("Doha",)
        assert any(n.message.startswith("reclassified 8 items") for n in app._notifications)
        # The veto applies: nothing that mentions Doha is relevant any more.
        relevant = store.query(ItemQuery(relevant_only=True))
        assert relevant and not any("Doha" in item.title or "Doha" in item.summary for item in relevant)
        assert not any("Doha" in title for title in shown_titles(app))


async def test_bindings_can_be_remapped_by_id(config, store):
    app = make(config, store)
    app.set_keymap({"toggle_relevant": "x", "help": "f1"})
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert not app.view.relevant_only and len(shown_titles(app)) == 8
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        assert app.screen.keys_for["toggle_relevant"] == "x"
