"""The public surface: a small, documented API re-exported from the package."""

import prospects


def test_public_surface_is_exported_and_documented():
    assert set(prospects.__all__) == {*prospects._EXPORTS, "__version__"}
    for name in prospects._EXPORTS:
        obj = getattr(prospects, name)
        assert obj is not None
        if callable(obj):
            assert obj.__doc__, name
