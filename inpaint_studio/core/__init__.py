"""Qt-free, torch-free model: numpy and the standard library only."""
