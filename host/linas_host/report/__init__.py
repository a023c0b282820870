"""A run's report: its figures (plots) and the static page that embeds them (html)."""
