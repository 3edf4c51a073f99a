import numpy as np
import pytest

from restorer import pipeline
from restorer.errors import Cancelled
from restorer.events import Finished, Progress, StageFinished, StageStarted
from restorer.imaging import Photo
from restorer.recipe import Recipe

from .conftest import gradient_photo


def _classic_recipe() -> Recipe:
    return (Recipe().with_enabled({"artifacts", "inpaint", "colorize", "upscale"})
            .with_settings("upscale", engine="lanczos", scale=2).with_settings("artifacts", strength=20, engine="classic"))


def test_stages_run_in_order_and_finish_once():
    photo = Photo(gradient_photo())
    mask = np.zeros((32, 48), dtype=bool)
    mask[10:12, 5:40] = True
    events = list(pipeline.run(_classic_recipe(), photo, mask=mask))
    started = [e.stage for e in events if isinstance(e, StageStarted)]
    finished = [e.stage for e in events if isinstance(e, StageFinished)]
    assert started == finished == ["artifacts", "inpaint", "colorize", "upscale"]
    assert isinstance(events[-1], Finished) and sum(isinstance(e, Finished) for e in events) == 1
    assert events[-1].photo.size == (96, 64)
    overall = [e.overall for e in events if isinstance(e, Progress)]
    assert overall == sorted(overall) and overall[-1] == pytest.approx(1.0)


def test_disabled_stages_do_not_run():
    events = list(pipeline.run(Recipe().with_enabled({"colorize"}), Photo(gradient_photo())))
    assert [e.stage for e in events if isinstance(e, StageStarted)] == ["colorize"]


def test_cancel_stops_between_steps_and_yields_no_result():
    token = pipeline.CancelToken()
    seen = []
    with pytest.raises(Cancelled):
        for event in pipeline.run(_classic_recipe(), Photo(gradient_photo()), cancel=token):
            seen.append(event)
            if isinstance(event, Progress):
                token.cancel()
    assert not any(isinstance(e, Finished) for e in seen)
    assert [e.stage for e in seen if isinstance(e, StageStarted)] == ["artifacts"]


def test_input_photo_is_not_modified():
    pixels = gradient_photo()
    photo = Photo(pixels.copy())
    pipeline.run_to_end(_classic_recipe(), photo)
    assert np.array_equal(photo.pixels, pixels)


def test_progress_gives_each_stage_its_share_of_the_work():
    """The enlargement of a scan is almost all of a run; equal shares would show 75 % done as it starts."""
    from restorer.stages.costs import progress_shares, stage_costs

    networks = Recipe().with_enabled({"artifacts", "colorize", "upscale"})
    shares = progress_shares(networks, (640, 480))
    assert shares[0][0] == 0.0 and sum(w for _, w in shares) == pytest.approx(1.0)
    assert all(a + w == pytest.approx(b) for (a, w), (b, _) in zip(shares, shares[1:]))
    assert shares[-1][1] > 0.9 and min(w for _, w in shares) >= 0.009
    fast = progress_shares(networks.with_settings("upscale", quality="fast"), (640, 480))
    assert fast[-1][1] < shares[-1][1]
    # ColorNet works at a 256-pixel short side: its cost stops growing with the photo, ArtifactNet's does not.
    small, big = stage_costs(networks, (640, 480)), stage_costs(networks, (1280, 960))
    assert big[1] == pytest.approx(small[1], rel=0.1) and big[0] == pytest.approx(4 * small[0])

    events = list(pipeline.run(_classic_recipe(), Photo(gradient_photo()),
                               mask=np.zeros((32, 48), dtype=bool)))
    expected = progress_shares(_classic_recipe(), (48, 32))
    firsts = {}
    for event in events:
        if isinstance(event, Progress) and event.stage not in firsts:
            firsts[event.stage] = event
    for (begin, width), stage in zip(expected, ["artifacts", "inpaint", "colorize", "upscale"]):
        first = firsts[stage]
        assert first.overall == pytest.approx(begin + width * first.fraction)
