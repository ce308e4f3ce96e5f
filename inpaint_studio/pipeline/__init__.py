"""Qt-free, torch-free fill pipeline: crop per hole, resize, pad, fill, blend back."""
