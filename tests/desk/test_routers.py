"""The desk's routers are built per dispatcher and get the runtime as workflow data."""

from __future__ import annotations

from types import SimpleNamespace

from botapi.updates import UpdatesIntake
from desk import routers


def test_two_intakes_in_one_interpreter_each_get_their_own_routers() -> None:
    # A module-level router could join only one dispatcher: a second service would fail here.
    runtimes = [SimpleNamespace(name="first"), SimpleNamespace(name="second")]
    intakes = [UpdatesIntake(runtime) for runtime in runtimes]
    for intake, runtime in zip(intakes, runtimes, strict=True):
        routers.install(intake, runtime)
    for intake, runtime in zip(intakes, runtimes, strict=True):
        assert intake.dispatcher["runtime"] is runtime
        names = [router.name for router in intake.dispatcher.sub_routers]
        # The commands before the topics: the topics' filter takes every group message.
        assert names == ["desk-feed", "desk-commands", "desk-topics", "desk-edits"]
