"""Synthetic SoccerNet games (videos and labels in the real formats) for tests and the demo."""
