"""prospects: the prospects dashboard of a professional-services firm."""

__version__ = "0.1.0"
