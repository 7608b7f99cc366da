"""Estimating a story's price from the published pricing, and the per-task cap: pure logic."""

from __future__ import annotations

import pytest

from airflow_provider_vimmerse.credits import RATES, VimmerseCreditBudget, _check_credit_cap, estimate_credits
from airflow_provider_vimmerse.exceptions import VimmerseInsufficientCreditError, VimmerseInvalidParameterError


@pytest.mark.parametrize(
    ("arguments", "credits"),
    [
        ({"video_tool": "Vidu", "scene_count": 3}, 75),
        ({"video_tool": "Auto", "scene_count": 3}, 150),
        ({"video_tool": "AutoT1", "scene_count": 5, "audio_option": {"native_audio": True}}, 250),
    ],
    ids=["vidu-3x5", "auto-3x5", "autot1-5x5-native-audio"],
)
def test_the_services_worked_examples(arguments, credits):
    assert estimate_credits("idea_to_video", **arguments) == credits


def test_unset_arguments_take_the_services_defaults():
    assert estimate_credits("idea_to_video") == RATES["Auto"] * 3 * 5
    assert estimate_credits("url_to_video", url="https://shop.example/p", scene_duration=10) == 10 * 3 * 10


def test_images_count_scenes_and_videos_count_the_storyboard():
    assert estimate_credits("images_to_video", image_urls=["https://a/1.png", "https://a/2.png"]) == 100
    board = {"scenes": [{"name": "a"}, {"name": "b"}]}
    assert estimate_credits("create_videos", storyboard=board, motion_type="KlingAI", duration=2) == 40
    assert estimate_credits("create_videos", storyboard=board, native_audio=True) == 200


def test_narration_and_music_alone_do_not_double_the_price():
    option = {"has_narration": True, "has_bg_music": True}
    assert estimate_credits("idea_to_video", audio_option=option) == estimate_credits("idea_to_video")


@pytest.mark.parametrize(
    ("step", "arguments"),
    [
        ("idea_to_video", {"video_tool": "Sora"}),
        ("create_storyboard", {"idea": "x"}),
        ("create_scenes", {}),
        ("create_videos", {}),  # without its storyboard, the scene count is unknown
        ("create_videos", {"storyboard": {"scenes": [{}]}, "motion_type": "SoraPro"}),
    ],
)
def test_unknown_prices_are_none_never_zero(step, arguments):
    assert estimate_credits(step, **arguments) is None


def test_the_older_names_of_the_automatic_modes_count():
    assert estimate_credits("idea_to_video", motion_type="Vidu", duration=10, scene_count=1) == 50


def test_the_cap_refuses_an_estimate_above_it_or_unknown():
    assert _check_credit_cap("idea_to_video", {"idea": "x", "video_tool": "Vidu"}, 75) == 75
    assert _check_credit_cap("idea_to_video", {"idea": "x", "video_tool": "Vidu"}, None) == 75
    with pytest.raises(VimmerseInsufficientCreditError, match=r"estimated at 150 credits, and max_credits is 100"):
        _check_credit_cap("idea_to_video", {"idea": "x"}, 100)
    with pytest.raises(VimmerseInsufficientCreditError, match="cannot be estimated"):
        _check_credit_cap("create_scenes", {}, 1000)
    with pytest.raises(VimmerseInvalidParameterError, match="max_credits"):
        _check_credit_cap("idea_to_video", {"idea": "x"}, "lots")


def test_a_credit_pool_task_occupies_its_credits_in_slots():
    from airflow_provider_vimmerse.operators.story import VimmerseIdeaToVideoOperator

    by_estimate = VimmerseIdeaToVideoOperator(task_id="a", idea="x", scene_count=3, credit_pool="vimmerse_credits")
    assert (by_estimate.pool, by_estimate.pool_slots) == ("vimmerse_credits", 150)
    by_cap = VimmerseIdeaToVideoOperator(
        task_id="b", idea="x", scene_count="{{ params.n }}", max_credits=80, credit_pool="vimmerse_credits"
    )
    assert by_cap.pool_slots == 80
    with pytest.raises(VimmerseInvalidParameterError, match="credit_pool"):
        VimmerseIdeaToVideoOperator(task_id="c", idea="x", scene_count="{{ params.n }}", credit_pool="p")
    with pytest.raises(VimmerseInvalidParameterError, match="pool"):
        VimmerseIdeaToVideoOperator(task_id="d", idea="x", pool="other", credit_pool="p")
    assert VimmerseIdeaToVideoOperator(task_id="e", idea="x").pool_slots == 1  # no credit pool: Airflow's default


class FakeVariables:
    """Airflow Variables in memory; ``during_settle`` runs while a reservation settles (a concurrent task)."""

    def __init__(self):
        self.values: dict[str, str] = {}
        self.during_settle = None

    def get(self, key, default=None):
        return self.values.get(key, default)

    def set(self, key, value, description=None):
        self.values[key] = value


@pytest.fixture
def variables(monkeypatch):
    import time as time_module

    from airflow.sdk import Variable

    store = FakeVariables()
    monkeypatch.setattr(Variable, "get", staticmethod(store.get))
    monkeypatch.setattr(Variable, "set", staticmethod(store.set))
    real_sleep = time_module.sleep

    def settle(seconds):
        if store.during_settle is not None:
            action, store.during_settle = store.during_settle, None
            action()
        real_sleep(0)

    monkeypatch.setattr(time_module, "sleep", settle)
    return store


def test_a_budget_holds_reservations_until_the_day_is_spent(variables):
    budget = VimmerseCreditBudget("videos", 200)
    budget._reserve("dag/run/a/-1", 75)
    budget._reserve("dag/run/b/-1", 75)
    assert budget.remaining() == 50
    with pytest.raises(VimmerseInsufficientCreditError, match="50 of 200 credits left today"):
        budget._reserve("dag/run/c/-1", 75)
    budget._reserve("dag/run/a/-1", 75)  # a retry of the same task keeps its hold: nothing more
    assert budget.remaining() == 50


def test_settling_replaces_the_reservation_with_what_was_used_and_a_release_gives_it_back(variables):
    budget = VimmerseCreditBudget("videos", 200)
    budget._reserve("a", 150)
    budget._settle("a", 60)
    assert budget.remaining() == 140
    budget._reserve("b", 100)
    budget._release("b")
    assert budget.remaining() == 140


def test_yesterdays_spending_does_not_count_today(variables):
    import json

    variables.values["vimmerse_credit_budget_videos"] = json.dumps(
        {"day": "2000-01-01", "holds": {"old": {"credits": 999, "at": 0}}}
    )
    assert VimmerseCreditBudget("videos", 100).remaining() == 100


def test_a_reservation_lost_to_a_concurrent_write_is_made_again(variables):
    import json

    budget = VimmerseCreditBudget("videos", 200)

    def other_task_overwrites():  # it read before our write, and writes its own hold over ours
        variables.values[budget.key] = json.dumps(
            {"day": budget._read()["day"], "holds": {"other": {"credits": 100, "at": 1.0}}}
        )

    variables.during_settle = other_task_overwrites
    budget._reserve("mine", 75)
    assert set(budget._read()["holds"]) == {"other", "mine"} and budget.remaining() == 25


def test_of_two_reservations_made_at_once_only_the_earlier_one_that_fits_passes(variables):
    import json

    budget = VimmerseCreditBudget("videos", 100)

    def other_task_reserved_first():  # both read "100 left"; the other's hold is older
        state = budget._read()
        state["holds"]["other"] = {"credits": 75, "at": 0.0}
        variables.values[budget.key] = json.dumps(state)

    variables.during_settle = other_task_reserved_first
    with pytest.raises(VimmerseInsufficientCreditError, match="reserved at the same time"):
        budget._reserve("mine", 75)
    assert set(budget._read()["holds"]) == {"other"}


@pytest.mark.parametrize(("name", "credits"), [("bad name", 10), ("ok", -1), ("", 10)])
def test_a_budget_needs_a_plain_name_and_a_count(name, credits):
    with pytest.raises(VimmerseInvalidParameterError):
        VimmerseCreditBudget(name, credits)
