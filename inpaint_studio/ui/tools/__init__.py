"""Canvas tools: each turns press/move/release into one history step."""
