"""Each test's time limit grows with the machine's load (tests/conftest.py), so a loaded
machine makes the suite slower, not red."""

import os

import pytest


def test_default_limit_is_scaled_by_the_load_at_start(request):
    marker = request.node.get_closest_marker("timeout")
    assert marker is not None, "no time limit was set for this test"
    factor = max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))
    # The load may have moved since the test started: within a factor of 3 of it now.
    assert 300.0 <= marker.args[0] <= 300.0 * 3 * factor + 1


@pytest.mark.timeout(40)
def test_a_tests_own_limit_is_scaled_too(request):
    limit = request.node.get_closest_marker("timeout").args[0]
    assert 40.0 <= limit < 300.0 * max(1.0, os.getloadavg()[0])
